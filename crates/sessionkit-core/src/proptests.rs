//! Property tests: the per-key merge of overlapping requests, the codecs and cookie parsing
//! over generated inputs (`proptest`; each property runs its default 256 cases).

mod codecs;
mod cookies;
mod merge;
