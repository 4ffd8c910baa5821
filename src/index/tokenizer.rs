//! The tantivy side of the shared tokenizer ([`crate::text`]): the index holds exactly the
//! tokens the query matcher sees, so `hark search` and the pipeline's matching agree.
//! A hashtag or handle is indexed twice at the same position: as the plain word (`acme`,
//! so a plain term matches it) and with its sigil (`#acme`, for `#acme` queries).

use tantivy::tokenizer::{Token, TokenStream, Tokenizer};

pub const NAME: &str = "hark";

#[derive(Clone, Default)]
pub struct HarkTokenizer {
    tokens: Vec<Token>,
}

pub struct VecTokenStream<'a> {
    tokens: &'a mut [Token],
    next: usize,
}

impl Tokenizer for HarkTokenizer {
    type TokenStream<'a> = VecTokenStream<'a>;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> VecTokenStream<'a> {
        self.tokens.clear();
        for t in crate::text::tokenize(text) {
            let position = t.position as usize;
            if let Some(sigil) = t.sigil {
                let mut tagged = String::with_capacity(t.text.len() + 1);
                tagged.push(sigil);
                tagged.push_str(&t.text);
                self.tokens.push(Token {
                    offset_from: text[..t.start]
                        .chars()
                        .next_back()
                        .map_or(t.start, |c| t.start - c.len_utf8()),
                    offset_to: t.end,
                    position,
                    text: tagged,
                    position_length: 1,
                });
            }
            self.tokens.push(Token {
                offset_from: t.start,
                offset_to: t.end,
                position,
                text: t.text,
                position_length: 1,
            });
        }
        VecTokenStream {
            tokens: &mut self.tokens,
            next: 0,
        }
    }
}

impl TokenStream for VecTokenStream<'_> {
    fn advance(&mut self) -> bool {
        self.next += 1;
        self.next <= self.tokens.len()
    }

    fn token(&self) -> &Token {
        &self.tokens[self.next - 1]
    }

    fn token_mut(&mut self) -> &mut Token {
        &mut self.tokens[self.next - 1]
    }
}
