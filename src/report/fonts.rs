//! Fonts for the PDF report: every script the UI shows, shaped, embedded as subsets, and
//! searchable (each glyph maps back to its text through a ToUnicode CMap, so `pdftotext`
//! gives the original text back).
//!
//! - **Which font draws a character**: the first font of the chain that has a glyph for it.
//!   The chain starts with the bundled DejaVu Sans (regular, bold; `assets/fonts/`, Latin,
//!   Greek, Cyrillic, Hebrew, Arabic), then system fonts found at run time: Noto Sans CJK
//!   (Debian `fonts-noto-cjk`) for Chinese, Japanese and Korean, Noto Sans Arabic and Hebrew
//!   (`fonts-noto-core`), then any font under the system font directories that has the
//!   character (searched only for characters nothing else covers).
//! - **Shaping**: each run of one font and one direction is shaped with rustybuzz (HarfBuzz's
//!   algorithm): Arabic joins, right-to-left runs come out in visual order, kerning applies.
//!   A line whose first strong character is right-to-left lays its runs out right to left.
//! - **Embedding**: only the glyphs used are embedded (subsetter), as CID fonts with
//!   `Identity-H`; glyph widths go in `/W`.
//! - **Nothing silent**: a character no font has is drawn as a visible box and logged once
//!   per report; which font covered which scripts is logged and written into the PDF's
//!   metadata (`/HarkFonts`).

use rustybuzz::{Direction, UnicodeBuffer};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::OnceLock;

static DEJAVU: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");
static DEJAVU_BOLD: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans-Bold.ttf");

/// System fonts tried, in order, after the bundled ones (path, collection index).
const SYSTEM_FALLBACKS: &[(&str, u32, bool)] = &[
    (
        "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
        0,
        false,
    ),
    (
        "/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc",
        0,
        true,
    ),
    (
        "/usr/share/fonts/truetype/noto/NotoSansArabic-Regular.ttf",
        0,
        false,
    ),
    (
        "/usr/share/fonts/truetype/noto/NotoSansArabic-Bold.ttf",
        0,
        true,
    ),
    (
        "/usr/share/fonts/truetype/noto/NotoSansHebrew-Regular.ttf",
        0,
        false,
    ),
    (
        "/usr/share/fonts/truetype/noto/NotoSansHebrew-Bold.ttf",
        0,
        true,
    ),
    (
        "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.otf",
        0,
        false,
    ),
    (
        "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",
        0,
        false,
    ),
];
const SYSTEM_DIRS: &[&str] = &["/usr/share/fonts", "/usr/local/share/fonts"];

/// A font file loaded once per process.
pub struct FontFile {
    pub name: String,
    data: &'static [u8],
    index: u32,
    bold: bool,
    face: rustybuzz::Face<'static>,
}

impl std::fmt::Debug for FontFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.name)
    }
}

impl FontFile {
    fn load(data: &'static [u8], index: u32, bold: bool) -> Option<FontFile> {
        let face = rustybuzz::Face::from_slice(data, index)?;
        let name = face
            .names()
            .into_iter()
            .filter(|n| n.name_id == rustybuzz::ttf_parser::name_id::FULL_NAME && n.is_unicode())
            .find_map(|n| n.to_string())
            .unwrap_or_else(|| "Font".into());
        Some(FontFile {
            name,
            data,
            index,
            bold,
            face,
        })
    }

    fn from_path(path: &std::path::Path, index: u32, bold: bool) -> Option<FontFile> {
        let bytes = std::fs::read(path).ok()?;
        // Loaded once per process and kept for its lifetime (see `system_fonts`).
        let data: &'static [u8] = Box::leak(bytes.into_boxed_slice());
        FontFile::load(data, index, bold)
    }

    fn has(&self, c: char) -> bool {
        self.face.glyph_index(c).is_some()
    }

    fn units(&self) -> f32 {
        self.face.units_per_em() as f32
    }

    fn is_cff(&self) -> bool {
        self.face.tables().cff.is_some() || self.face.tables().cff2.is_some()
    }
}

fn bundled() -> &'static [FontFile; 2] {
    static B: OnceLock<[FontFile; 2]> = OnceLock::new();
    B.get_or_init(|| {
        [
            FontFile::load(DEJAVU, 0, false).expect("bundled DejaVu Sans parses"),
            FontFile::load(DEJAVU_BOLD, 0, true).expect("bundled DejaVu Sans Bold parses"),
        ]
    })
}

fn system_fonts() -> &'static [FontFile] {
    static S: OnceLock<Vec<FontFile>> = OnceLock::new();
    S.get_or_init(|| {
        SYSTEM_FALLBACKS
            .iter()
            .filter_map(|(p, i, bold)| FontFile::from_path(std::path::Path::new(p), *i, *bold))
            .collect()
    })
}

/// Fonts found by searching the system font directories for one character, cached.
fn font_for_rare(c: char) -> Option<&'static FontFile> {
    static FOUND: OnceLock<std::sync::Mutex<HashMap<char, Option<&'static FontFile>>>> =
        OnceLock::new();
    static SCANNED: OnceLock<Vec<std::path::PathBuf>> = OnceLock::new();
    // Private-use and unassigned-plane characters have no meaning a font could know; and a
    // search reads every system font file, so a process does at most MAX_SEARCHES of them
    // (hostile text full of rare characters must not cost a search each).
    const MAX_SEARCHES: usize = 16;
    if matches!(c as u32, 0xE000..=0xF8FF | 0xE0000..=0x10FFFF) {
        return None;
    }
    let cache = FOUND.get_or_init(Default::default);
    {
        let cache = cache.lock().expect("font cache");
        if let Some(hit) = cache.get(&c) {
            return *hit;
        }
        if cache.len() >= MAX_SEARCHES {
            return None;
        }
    }
    let files = SCANNED.get_or_init(|| {
        let mut out = Vec::new();
        let mut dirs: Vec<std::path::PathBuf> = SYSTEM_DIRS.iter().map(Into::into).collect();
        while let Some(d) = dirs.pop() {
            let Ok(rd) = std::fs::read_dir(&d) else {
                continue;
            };
            for e in rd.flatten() {
                let p = e.path();
                if p.is_dir() {
                    dirs.push(p);
                } else if p.extension().and_then(|x| x.to_str()).is_some_and(|x| {
                    matches!(x.to_ascii_lowercase().as_str(), "ttf" | "otf" | "ttc")
                }) {
                    out.push(p);
                }
            }
        }
        out.sort();
        out
    });
    let mut hit = None;
    for p in files {
        let Ok(bytes) = std::fs::read(p) else {
            continue;
        };
        let Some(face) = rustybuzz::ttf_parser::Face::parse(&bytes, 0).ok() else {
            continue;
        };
        if face.glyph_index(c).is_some() {
            hit = FontFile::from_path(p, 0, false).map(|f| &*Box::leak(Box::new(f)));
            break;
        }
    }
    cache.lock().expect("font cache").insert(c, hit);
    hit
}

/// Regular or bold.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Weight {
    Regular,
    Bold,
}

/// The font chain for a weight: bundled (bold first for bold), then system fonts of that
/// weight, then the others.
fn chain(weight: Weight) -> Vec<&'static FontFile> {
    let b = bundled();
    let mut out: Vec<&'static FontFile> = match weight {
        Weight::Regular => vec![&b[0]],
        Weight::Bold => vec![&b[1], &b[0]],
    };
    let bold = weight == Weight::Bold;
    out.extend(system_fonts().iter().filter(|f| f.bold == bold));
    out.extend(system_fonts().iter().filter(|f| f.bold != bold));
    out
}

/// One shaped piece of a line.
#[derive(Debug, Clone)]
pub enum Piece {
    Glyphs {
        font: &'static FontFile,
        /// (glyph id in the font, advance in points, cluster text)
        glyphs: Vec<(u16, f32, String)>,
        width: f32,
    },
    /// A character no font has: drawn as a box of this width.
    Missing { c: char, width: f32 },
}

impl Piece {
    pub fn width(&self) -> f32 {
        match self {
            Piece::Glyphs { width, .. } | Piece::Missing { width, .. } => *width,
        }
    }
}

fn is_rtl(c: char) -> bool {
    matches!(c as u32, 0x0590..=0x08FF | 0xFB1D..=0xFDFF | 0xFE70..=0xFEFF)
}

fn is_strong_ltr(c: char) -> bool {
    c.is_alphabetic() && !is_rtl(c)
}

/// Shapes one line of text at `size` points: itemized by font and direction, each run
/// shaped, runs in visual order.
pub fn shape_line(text: &str, weight: Weight, size: f32) -> Vec<Piece> {
    let fonts = chain(weight);
    // Itemize: (font or None for missing, rtl, text).
    let mut items: Vec<(Option<&'static FontFile>, bool, String)> = Vec::new();
    let mut dir_rtl = text
        .chars()
        .find(|c| is_rtl(*c) || is_strong_ltr(*c))
        .is_some_and(is_rtl);
    let para_rtl = dir_rtl;
    for c in text.chars() {
        if c.is_control() {
            continue;
        }
        if is_rtl(c) {
            dir_rtl = true;
        } else if is_strong_ltr(c) {
            dir_rtl = false;
        }
        let neutral = !c.is_alphanumeric();
        let font = match items.last() {
            // Spaces, punctuation and marks stay with the run they are in when its font has them.
            Some((Some(f), _, _)) if neutral && f.has(c) => Some(*f),
            _ => fonts
                .iter()
                .copied()
                .find(|f| f.has(c))
                .or_else(|| font_for_rare(c)),
        };
        match items.last_mut() {
            Some((f, rtl, s))
                if font.is_some()
                    && f.map(|f| f as *const FontFile) == font.map(|f| f as *const FontFile)
                    && (*rtl == dir_rtl || neutral) =>
            {
                s.push(c)
            }
            _ => items.push((font, dir_rtl, c.to_string())),
        }
    }
    let mut pieces: Vec<Piece> = items
        .into_iter()
        .flat_map(|(font, rtl, s)| match font {
            Some(f) => vec![shape_run(f, rtl, &s, size)],
            None => s
                .chars()
                .map(|c| Piece::Missing {
                    c,
                    width: size * 0.6,
                })
                .collect(),
        })
        .collect();
    if para_rtl {
        pieces.reverse();
    }
    pieces
}

fn shape_run(font: &'static FontFile, rtl: bool, text: &str, size: f32) -> Piece {
    let mut buf = UnicodeBuffer::new();
    buf.push_str(text);
    buf.set_direction(if rtl {
        Direction::RightToLeft
    } else {
        Direction::LeftToRight
    });
    let out = rustybuzz::shape(&font.face, &[], buf);
    let scale = size / font.units();
    // Cluster → its text (clusters are byte offsets into `text`).
    let mut starts: Vec<usize> = out
        .glyph_infos()
        .iter()
        .map(|g| g.cluster as usize)
        .collect();
    starts.sort_unstable();
    starts.dedup();
    let cluster_text = |start: usize| {
        let end = starts
            .iter()
            .find(|s| **s > start)
            .copied()
            .unwrap_or(text.len());
        text.get(start..end).unwrap_or("").to_string()
    };
    let mut seen = BTreeSet::new();
    let mut glyphs = Vec::with_capacity(out.len());
    let mut width = 0.0;
    for (info, pos) in out.glyph_infos().iter().zip(out.glyph_positions()) {
        let adv = pos.x_advance as f32 * scale;
        // The first glyph of a cluster carries its text; the others none.
        let t = if seen.insert(info.cluster) {
            cluster_text(info.cluster as usize)
        } else {
            String::new()
        };
        glyphs.push((info.glyph_id as u16, adv, t));
        width += adv;
    }
    Piece::Glyphs {
        font,
        glyphs,
        width,
    }
}

/// The width of a line of text in points.
pub fn width(text: &str, weight: Weight, size: f32) -> f32 {
    shape_line(text, weight, size)
        .iter()
        .map(Piece::width)
        .sum()
}

/// What one PDF uses of each font: the subset, the widths, the text of each glyph.
#[derive(Default)]
pub struct Usage {
    fonts: Vec<FontUse>,
    missing: BTreeSet<char>,
    /// Font name → scripts it drew.
    coverage: BTreeMap<String, BTreeSet<&'static str>>,
}

struct FontUse {
    font: &'static FontFile,
    remapper: subsetter::GlyphRemapper,
    /// New glyph id → (advance in 1/1000 em, text).
    glyphs: BTreeMap<u16, (f32, String)>,
}

fn script_of(c: char) -> &'static str {
    match c as u32 {
        0x0000..=0x024F | 0x1E00..=0x1EFF => "Latin",
        0x0370..=0x03FF | 0x1F00..=0x1FFF => "Greek",
        0x0400..=0x052F => "Cyrillic",
        0x0590..=0x05FF | 0xFB1D..=0xFB4F => "Hebrew",
        0x0600..=0x08FF | 0xFB50..=0xFDFF | 0xFE70..=0xFEFF => "Arabic",
        0x3040..=0x30FF => "Japanese",
        0xAC00..=0xD7AF | 0x1100..=0x11FF => "Korean",
        0x2E80..=0x2FFF | 0x3400..=0x9FFF | 0xF900..=0xFAFF | 0x20000..=0x3FFFF => "CJK",
        _ => "other",
    }
}

impl Usage {
    /// Writes the content-stream operators that draw `pieces` from (x, y), in colour
    /// `rgb` (an operator string such as `0 0 0 rg`).
    pub fn draw(
        &mut self,
        out: &mut Vec<u8>,
        pieces: &[Piece],
        x: f32,
        y: f32,
        size: f32,
        rgb: &str,
    ) {
        use std::io::Write;
        let mut x = x;
        for p in pieces {
            match p {
                Piece::Missing { c, width } => {
                    if self.missing.insert(*c) {
                        tracing::warn!(
                            "report PDF: no font has U+{:04X} {c:?}; drawn as a box",
                            *c as u32
                        );
                    }
                    let stroke = rgb.replace(" rg", " RG");
                    let _ = writeln!(
                        out,
                        "{stroke} 0.6 w {} {} {} {} re S",
                        super::pdf::n(x + width * 0.1),
                        super::pdf::n(y - size * 0.05),
                        super::pdf::n(width * 0.8),
                        super::pdf::n(size * 0.75)
                    );
                    x += width;
                }
                Piece::Glyphs {
                    font,
                    glyphs,
                    width,
                } => {
                    let k = self.font_index(font);
                    let units = font.units();
                    let u = &mut self.fonts[k];
                    let _ = write!(
                        out,
                        "{rgb} BT /H{k} {} Tf {} {} Td [<",
                        super::pdf::n(size),
                        super::pdf::n(x),
                        super::pdf::n(y)
                    );
                    let mut adjust_pending = 0.0f32;
                    for (gid, adv, text) in glyphs {
                        let new = u.remapper.remap(*gid);
                        let default = font
                            .face
                            .glyph_hor_advance(rustybuzz::ttf_parser::GlyphId(*gid))
                            .unwrap_or(0) as f32
                            * 1000.0
                            / units;
                        u.glyphs
                            .entry(new)
                            .or_insert_with(|| (default, text.clone()));
                        if adjust_pending.abs() > 0.01 {
                            let _ = write!(out, "> {} <", super::pdf::n(adjust_pending));
                        }
                        let _ = write!(out, "{new:04X}");
                        // TJ moves by the glyph's default width; the shaped advance may differ.
                        adjust_pending = default - adv * 1000.0 / size;
                        for c in text.chars().filter(|c| c.is_alphabetic()) {
                            self.coverage
                                .entry(font.name.clone())
                                .or_default()
                                .insert(script_of(c));
                        }
                    }
                    let _ = writeln!(out, ">] TJ ET");
                    x += width;
                }
            }
        }
    }

    fn font_index(&mut self, font: &'static FontFile) -> usize {
        if let Some(i) = self.fonts.iter().position(|u| std::ptr::eq(u.font, font)) {
            return i;
        }
        let mut remapper = subsetter::GlyphRemapper::new();
        remapper.remap(0); // .notdef stays glyph 0
        self.fonts.push(FontUse {
            font,
            remapper,
            glyphs: BTreeMap::new(),
        });
        self.fonts.len() - 1
    }

    /// The font resources (`/H0 N 0 R ...`) and the PDF objects that define them, numbered
    /// from `first`.
    pub fn objects(&self, first: usize) -> (String, Vec<Vec<u8>>) {
        let mut objs = Vec::new();
        let mut resources = String::new();
        for (k, u) in self.fonts.iter().enumerate() {
            let base = first + objs.len();
            let (type0, cid, desc, file, tounicode) =
                (base, base + 1, base + 2, base + 3, base + 4);
            let tag: String = (0..6)
                .map(|i| (b'A' + ((k * 7 + i * 3) % 26) as u8) as char)
                .collect();
            let name: String = format!(
                "{tag}+{}",
                u.font
                    .name
                    .chars()
                    .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
                    .collect::<String>()
            );
            let subset =
                subsetter::subset(u.font.data, u.font.index, &u.remapper).unwrap_or_else(|e| {
                    // The whole font then: larger, but the text stays correct.
                    tracing::warn!(font = %u.font.name, error = ?e, "font subsetting failed; embedding the whole font");
                    u.font.data.to_vec()
                });
            let cff = u.font.is_cff();
            let units = u.font.units();
            let f = &u.font.face;
            let bbox = f.global_bounding_box();
            let scale = |v: i16| (v as f32 * 1000.0 / units).round() as i32;
            let widths: Vec<String> = (0..u.remapper.num_gids())
                .map(|g| {
                    u.glyphs
                        .get(&g)
                        .map_or_else(|| "0".to_string(), |(w, _)| format!("{}", w.round() as i32))
                })
                .collect();
            objs.push(
                format!(
                    "<< /Type /Font /Subtype /Type0 /BaseFont /{name} /Encoding /Identity-H /DescendantFonts [{cid} 0 R] /ToUnicode {tounicode} 0 R >>"
                )
                .into_bytes(),
            );
            objs.push(
                format!(
                    "<< /Type /Font /Subtype /{} /BaseFont /{name} /CIDSystemInfo << /Registry (Adobe) /Ordering (Identity) /Supplement 0 >> /FontDescriptor {desc} 0 R /W [0 [{}]]{} >>",
                    if cff { "CIDFontType0" } else { "CIDFontType2" },
                    widths.join(" "),
                    if cff { "" } else { " /CIDToGIDMap /Identity" }
                )
                .into_bytes(),
            );
            objs.push(
                format!(
                    "<< /Type /FontDescriptor /FontName /{name} /Flags 4 /FontBBox [{} {} {} {}] /ItalicAngle 0 /Ascent {} /Descent {} /CapHeight {} /StemV {} /{} {file} 0 R >>",
                    scale(bbox.x_min),
                    scale(bbox.y_min),
                    scale(bbox.x_max),
                    scale(bbox.y_max),
                    scale(f.ascender()),
                    scale(f.descender()),
                    scale(f.capital_height().unwrap_or(f.ascender())),
                    if u.font.bold { 140 } else { 80 },
                    if cff { "FontFile3" } else { "FontFile2" },
                )
                .into_bytes(),
            );
            let file_dict = if cff {
                "/Subtype /OpenType /Filter /FlateDecode".to_string()
            } else {
                format!("/Length1 {} /Filter /FlateDecode", subset.len())
            };
            objs.push(super::pdf::stream_object(
                &file_dict,
                &super::pdf::deflate(&subset),
            ));
            objs.push(super::pdf::stream_object(
                "/Type /CMap",
                tounicode_cmap(u).as_bytes(),
            ));
            resources.push_str(&format!(" /H{k} {type0} 0 R"));
        }
        (resources, objs)
    }

    /// "DejaVu Sans: Cyrillic, Latin; Noto Sans CJK JP Regular: CJK" — for the log and the
    /// PDF's metadata, plus the characters no font had.
    pub fn summary(&self) -> String {
        let mut parts: Vec<String> = self
            .coverage
            .iter()
            .map(|(f, s)| format!("{f}: {}", s.iter().copied().collect::<Vec<_>>().join(", ")))
            .collect();
        if !self.missing.is_empty() {
            let list: Vec<String> = self
                .missing
                .iter()
                .map(|c| format!("U+{:04X}", *c as u32))
                .collect();
            parts.push(format!("no font (drawn as boxes): {}", list.join(" ")));
        }
        parts.join("; ")
    }
}

/// The ToUnicode CMap of one font: each embedded glyph → the text it draws.
fn tounicode_cmap(u: &FontUse) -> String {
    let mut map = String::new();
    let entries: Vec<(u16, String)> = u
        .glyphs
        .iter()
        .filter(|(_, (_, t))| !t.is_empty())
        .map(|(g, (_, t))| {
            let hex: String = t.encode_utf16().map(|c| format!("{c:04X}")).collect();
            (*g, hex)
        })
        .collect();
    for chunk in entries.chunks(100) {
        map.push_str(&format!("{} beginbfchar\n", chunk.len()));
        for (g, hex) in chunk {
            map.push_str(&format!("<{g:04X}> <{hex}>\n"));
        }
        map.push_str("endbfchar\n");
    }
    format!(
        "/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def\n/CMapName /Adobe-Identity-UCS def\n/CMapType 2 def\n1 begincodespacerange\n<0000> <FFFF>\nendcodespacerange\n{map}endcmap\nCMapName currentdict /CMap defineresource pop\nend\nend\n"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bundled_fonts_cover_latin_greek_cyrillic() {
        for t in ["Café Zürich", "Ελληνικά", "Ужасный сервис"] {
            let p = shape_line(t, Weight::Regular, 10.0);
            assert!(
                p.iter().all(
                    |p| matches!(p, Piece::Glyphs { font, .. } if font.name.contains("DejaVu"))
                ),
                "{t}: {p:?}"
            );
            assert!(width(t, Weight::Regular, 10.0) > 10.0);
        }
        // Bold is wider than regular.
        assert!(width("Hello", Weight::Bold, 10.0) > width("Hello", Weight::Regular, 10.0));
    }

    #[test]
    fn a_character_without_font_is_a_box() {
        // A private-use character no font maps.
        let p = shape_line("a\u{F8FF}\u{10FFFD}b", Weight::Regular, 10.0);
        assert!(
            p.iter().any(|p| matches!(
                p,
                Piece::Missing {
                    c: '\u{10FFFD}',
                    ..
                }
            )),
            "{p:?}"
        );
    }

    #[test]
    fn arabic_is_shaped_right_to_left() {
        let text = "سلام";
        let p = shape_line(text, Weight::Regular, 10.0);
        let Piece::Glyphs { glyphs, .. } = &p[0] else {
            panic!("{p:?}")
        };
        // Joined forms differ from the isolated ones the cmap gives.
        let isolated: Vec<u16> = text
            .chars()
            .map(|c| bundled()[0].face.glyph_index(c).unwrap().0)
            .collect();
        let shaped: Vec<u16> = glyphs.iter().map(|g| g.0).collect();
        assert_ne!(shaped, isolated.iter().rev().copied().collect::<Vec<_>>());
        // Visual order: the last character's cluster comes first.
        assert_eq!(glyphs[0].2, "م");
    }
}
