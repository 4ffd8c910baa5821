//! The outbound-connection policy: which addresses hark may connect to.
//!
//! Feeds, crawled pages and API answers decide where hark goes next (redirects, links,
//! sitemaps, `next` cursors), and so does whoever controls their DNS. Left unchecked, one
//! hostile feed that redirects to `http://169.254.169.254/latest/meta-data/` or to an admin
//! service on the LAN would have hark fetch it and index the answer (server-side request
//! forgery). So every connection the shared fetcher makes is checked:
//!
//! - **Non-public addresses are refused**: loopback (`127.0.0.0/8`, `::1`), private
//!   (`10/8`, `172.16/12`, `192.168/16`, `fc00::/7`), link-local (`169.254/16`, which holds
//!   cloud metadata services, and `fe80::/10`), CGNAT (`100.64/10`), "this network"
//!   (`0/8`, `::`), IETF protocol assignments (`192.0.0/24`), benchmarking (`198.18/15`),
//!   documentation ranges, multicast, broadcast and reserved space, and IPv4 addresses
//!   embedded in IPv6 (mapped `::ffff:a.b.c.d`, NAT64 `64:ff9b::/96`) by the IPv4 rules.
//! - **unless the configuration names that host**: a feed URL, crawl seed, `allow` domain,
//!   `base_url`, webhook URL or SMTP host. A host named with a port (a URL) is allowed on
//!   that port only; `allow` domains on any port. Tests and self-hosted instances on
//!   127.0.0.1 or the LAN therefore work as configured, while a redirect from them to
//!   another, unnamed port of 127.0.0.1 is refused.
//! - **after DNS resolution, at connect time**: the fetcher's resolver drops non-public
//!   addresses of every host the configuration does not name, so a name that resolves to
//!   `10.0.0.5` (or is re-pointed there between a check and the connection: DNS rebinding)
//!   cannot be reached;
//! - **at every redirect hop, before connecting**: the fetcher follows redirects itself and
//!   checks each target (IP literals here, names by the resolver), and the crawler also
//!   checks its scope before a hop is fetched.
//!
//! `[http].allow_private_networks = true` turns the address checks off, for deployments
//! that crawl an intranet.

use std::collections::HashSet;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use url::{Host, Url};

/// Where outbound connections may go (see the module docs).
#[derive(Debug, Clone, Default)]
pub struct OutboundPolicy {
    /// `(host, port)` pairs named by URLs in the configuration; hosts lower-case, IPv6
    /// without brackets.
    named: HashSet<(String, u16)>,
    /// Hosts named without a port (`allow` domains): any port.
    named_hosts: HashSet<String>,
    /// Address checks off.
    allow_private: bool,
}

impl OutboundPolicy {
    /// A policy that allows every address (for tools that only talk to their own servers).
    pub fn allow_all() -> OutboundPolicy {
        OutboundPolicy {
            allow_private: true,
            ..Default::default()
        }
    }

    pub fn set_allow_private(&mut self, allow: bool) {
        self.allow_private = allow;
    }

    /// The policy of a deployment: every host its configuration names (see the module
    /// docs) is allowed.
    pub fn from_config(config: &crate::config::Config) -> OutboundPolicy {
        use crate::sources::KindSettings;
        let mut p = OutboundPolicy::default();
        p.set_allow_private(config.http.allow_private_networks);
        for s in &config.sources {
            if let Some(b) = &s.base_url {
                p.name_url(b);
            }
            match &s.settings {
                KindSettings::Feed(f) => f.urls.iter().for_each(|u| p.name(u)),
                KindSettings::Web(w) => w.seeds.iter().chain(&w.allow).for_each(|u| p.name(u)),
                _ => {}
            }
        }
        for rule in &config.alerts {
            for c in &rule.channels {
                if let crate::config::Channel::Webhook { url, .. } = c {
                    p.name(url);
                }
            }
        }
        if let Some(smtp) = &config.smtp {
            p.name_host_port(&smtp.host, smtp.port.unwrap_or(25));
        }
        p
    }

    /// Allows the host of `url` on its port (or the scheme's default).
    pub fn name_url(&mut self, url: &Url) {
        if let (Some(host), Some(port)) = (host_key(url), url.port_or_known_default()) {
            self.named.insert((host, port));
        }
    }

    /// Allows `s` if it is an absolute URL (see [`OutboundPolicy::name_url`]); a bare host
    /// or domain (`example.com`, `[::1]`) is allowed on any port.
    pub fn name(&mut self, s: &str) {
        match Url::parse(s) {
            Ok(u) if u.has_host() => self.name_url(&u),
            _ => {
                let host = s.trim().trim_end_matches('/').to_ascii_lowercase();
                let host = host.trim_start_matches('[').trim_end_matches(']');
                if !host.is_empty() {
                    self.named_hosts.insert(host.to_string());
                }
            }
        }
    }

    /// Allows `host` on `port` (an SMTP server).
    pub fn name_host_port(&mut self, host: &str, port: u16) {
        let host = host.trim_start_matches('[').trim_end_matches(']');
        self.named.insert((host.to_ascii_lowercase(), port));
    }

    /// Whether the configuration names `host` on any port.
    fn names_host(&self, host: &str) -> bool {
        self.named_hosts.contains(host) || self.named.iter().any(|(h, _)| h == host)
    }

    /// Whether a connection to `url` may be attempted. IP literals are judged here; a host
    /// name the configuration names on another port is resolved and judged here; any other
    /// name is judged by [`PolicyResolver`] when the connection is made.
    pub async fn check(&self, url: &Url) -> Result<(), PolicyError> {
        if self.allow_private {
            return Ok(());
        }
        let (Some(host), Some(port)) = (host_key(url), url.port_or_known_default()) else {
            return Err(PolicyError::NoHost);
        };
        if self.named.contains(&(host.clone(), port)) || self.named_hosts.contains(&host) {
            return Ok(());
        }
        match url.host() {
            Some(Host::Ipv4(ip)) => refuse_if_private(IpAddr::V4(ip), &host),
            Some(Host::Ipv6(ip)) => refuse_if_private(IpAddr::V6(ip), &host),
            Some(Host::Domain(_)) if self.names_host(&host) => {
                // Named, but on another port: its addresses are only trusted on that port.
                let addrs = tokio::net::lookup_host((host.as_str(), port))
                    .await
                    .map_err(|source| PolicyError::Resolve {
                        host: host.clone(),
                        source,
                    })?;
                for a in addrs {
                    refuse_if_private(a.ip(), &format!("{host}:{port}"))?;
                }
                Ok(())
            }
            _ => Ok(()),
        }
    }

    /// The DNS resolver that enforces this policy at connect time.
    pub fn resolver(self: &Arc<Self>) -> Arc<PolicyResolver> {
        Arc::new(PolicyResolver {
            policy: self.clone(),
        })
    }
}

fn host_key(url: &Url) -> Option<String> {
    match url.host()? {
        Host::Domain(d) => Some(d.to_ascii_lowercase()),
        Host::Ipv4(ip) => Some(ip.to_string()),
        Host::Ipv6(ip) => Some(ip.to_string()),
    }
}

/// Why the outbound policy refused a connection.
#[derive(Debug, thiserror::Error)]
pub enum PolicyError {
    #[error("no host")]
    NoHost,
    #[error("cannot resolve {host}: {source}")]
    Resolve {
        host: String,
        source: std::io::Error,
    },
    #[error(
        "refused to connect to {what}: {ip} is a {kind} address and the configuration does not name this host (see [http] in the README: outbound policy)"
    )]
    NonPublic {
        what: String,
        ip: IpAddr,
        kind: &'static str,
    },
}

fn refuse_if_private(ip: IpAddr, what: &str) -> Result<(), PolicyError> {
    match non_public(ip) {
        Some(kind) => Err(PolicyError::NonPublic {
            what: what.to_string(),
            ip,
            kind,
        }),
        None => Ok(()),
    }
}

/// What kind of non-public address `ip` is, or `None` for a public one.
pub fn non_public(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => non_public_v4(v4),
        IpAddr::V6(v6) => non_public_v6(v6),
    }
}

fn non_public_v4(ip: Ipv4Addr) -> Option<&'static str> {
    let o = ip.octets();
    Some(match o {
        [127, ..] => "loopback",
        [10, ..] => "private",
        [172, b, ..] if (16..32).contains(&b) => "private",
        [192, 168, ..] => "private",
        [169, 254, ..] => "link-local (cloud metadata)",
        [100, b, ..] if (64..128).contains(&b) => "shared (CGNAT)",
        [0, ..] => "\"this network\"",
        [192, 0, 0, _] => "IETF protocol",
        [192, 0, 2, _] | [198, 51, 100, _] | [203, 0, 113, _] => "documentation",
        [198, b, ..] if b == 18 || b == 19 => "benchmarking",
        [a, ..] if a >= 224 => "multicast or reserved",
        _ => return None,
    })
}

fn non_public_v6(ip: Ipv6Addr) -> Option<&'static str> {
    if let Some(v4) = ip.to_ipv4_mapped() {
        return non_public_v4(v4);
    }
    let s = ip.segments();
    // NAT64 (64:ff9b::/96) reaches the embedded IPv4 address.
    if s[0] == 0x64 && s[1] == 0xff9b && s[2..6] == [0, 0, 0, 0] {
        let o = ip.octets();
        return non_public_v4(Ipv4Addr::new(o[12], o[13], o[14], o[15]));
    }
    Some(match s {
        _ if ip.is_loopback() => "loopback",
        _ if ip.is_unspecified() => "unspecified",
        // IPv4-compatible (deprecated) ::a.b.c.d
        [0, 0, 0, 0, 0, 0, _, _] => "IPv4-compatible",
        [a, ..] if a & 0xfe00 == 0xfc00 => "private (unique local)",
        [a, ..] if a & 0xffc0 == 0xfe80 => "link-local",
        [a, ..] if a & 0xffc0 == 0xfec0 => "site-local",
        [a, ..] if a & 0xff00 == 0xff00 => "multicast",
        [0x2001, 0x0db8, ..] => "documentation",
        [0x0100, 0, 0, 0, ..] => "discard-only",
        _ => return None,
    })
}

/// The fetcher's DNS resolver: hosts the configuration does not name may only resolve to
/// public addresses; non-public ones are dropped, and a name with nothing left is an error.
pub struct PolicyResolver {
    policy: Arc<OutboundPolicy>,
}

impl reqwest::dns::Resolve for PolicyResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let policy = self.policy.clone();
        let host = name.as_str().to_ascii_lowercase();
        Box::pin(async move {
            let addrs: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            if policy.allow_private || policy.names_host(&host) {
                return Ok(Box::new(addrs.into_iter()) as reqwest::dns::Addrs);
            }
            let (public, refused): (Vec<SocketAddr>, Vec<SocketAddr>) = addrs
                .into_iter()
                .partition(|a| non_public(a.ip()).is_none());
            if public.is_empty()
                && let Some(first) = refused.first()
            {
                return Err(refuse_if_private(first.ip(), &host)
                    .expect_err("a refused address")
                    .into());
            }
            Ok(Box::new(public.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn address_classes() {
        for private in [
            "127.0.0.1",
            "127.1.2.3",
            "10.1.2.3",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "100.127.255.255",
            "0.0.0.0",
            "192.0.0.170",
            "198.18.0.1",
            "224.0.0.1",
            "255.255.255.255",
            "::1",
            "::",
            "::ffff:127.0.0.1",
            "::ffff:169.254.169.254",
            "64:ff9b::a9fe:a9fe",
            "fd00:ec2::254",
            "fe80::1",
            "ff02::1",
        ] {
            assert!(
                non_public(ip(private)).is_some(),
                "{private} must be refused"
            );
        }
        for public in [
            "8.8.8.8",
            "172.15.0.1",
            "172.32.0.1",
            "100.63.0.1",
            "100.128.0.1",
            "93.184.216.34",
            "2606:4700::1111",
            "::ffff:8.8.8.8",
        ] {
            assert!(non_public(ip(public)).is_none(), "{public} is public");
        }
    }

    #[tokio::test]
    async fn named_hosts_and_ports() {
        let mut p = OutboundPolicy::default();
        p.name("http://127.0.0.1:8080/feed.xml");
        p.name("intranet.example");
        p.name_host_port("10.0.0.25", 25);
        let ok = |s: &str| Url::parse(s).unwrap();
        assert!(p.check(&ok("http://127.0.0.1:8080/other")).await.is_ok());
        // Another port of a named address is not named.
        let e = p.check(&ok("http://127.0.0.1:9/")).await.unwrap_err();
        assert!(
            matches!(e, PolicyError::NonPublic { kind, .. } if kind.contains("loopback")),
            "{e}"
        );
        assert!(
            p.check(&ok("http://169.254.169.254/latest/meta-data/"))
                .await
                .is_err()
        );
        assert!(p.check(&ok("http://[::ffff:10.0.0.1]/")).await.is_err());
        assert!(p.check(&ok("http://intranet.example:8443/")).await.is_ok());
        // Unnamed host names are left to the resolver.
        assert!(p.check(&ok("https://example.org/")).await.is_ok());
        assert!(
            OutboundPolicy::allow_all()
                .check(&ok("http://127.0.0.1:9/"))
                .await
                .is_ok()
        );
    }

    #[tokio::test]
    async fn localhost_on_an_unnamed_port_is_refused() {
        let mut p = OutboundPolicy::default();
        p.name("http://localhost:8080/");
        let u = Url::parse("http://localhost:9999/").unwrap();
        assert!(p.check(&u).await.is_err());
        let u = Url::parse("http://localhost:8080/x").unwrap();
        assert!(p.check(&u).await.is_ok());
    }

    #[tokio::test]
    async fn resolver_drops_private_addresses_of_unnamed_hosts() {
        use reqwest::dns::Resolve;
        let policy = Arc::new(OutboundPolicy::default());
        let r = policy.resolver();
        let name: reqwest::dns::Name = "localhost".parse().unwrap();
        let err = match r.resolve(name).await {
            Ok(_) => panic!("localhost resolved though not named"),
            Err(e) => e.to_string(),
        };
        assert!(err.contains("loopback"), "{err}");
        let mut named = OutboundPolicy::default();
        named.name("http://localhost:1/");
        let r = Arc::new(named).resolver();
        let name: reqwest::dns::Name = "localhost".parse().unwrap();
        assert!(r.resolve(name).await.is_ok());
    }
}
