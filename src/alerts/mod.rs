//! Spike detection and alerting: rules are evaluated on the index after every commit
//! (`engine`), with the statistics in `detect`; what fires goes through the durable
//! `outbox` and is delivered by e-mail (`email`) or webhook (`webhook`).

pub mod deliver;
pub mod detect;
pub mod drivers;
pub mod email;
pub mod engine;
pub mod evaluate;
pub mod model;
pub mod outbox;
pub mod rules;
pub mod runner;
pub mod webhook;
