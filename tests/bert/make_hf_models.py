"""Writes tiny, randomly initialised Hugging Face sequence classifiers (BERT, DistilBERT,
RoBERTa) with `save_pretrained`, and the class probabilities transformers computes for some
texts, so that tests/bert.rs can check hark loads such directories and gets the same numbers.

usage: make_hf_models.py OUT_DIR BERT_VOCAB_TXT TEXTS_FILE
writes OUT_DIR/{bert,distilbert,roberta}/ and OUT_DIR/expected.json
"""
import json
import os
import sys

import torch
from tokenizers import ByteLevelBPETokenizer
from transformers import (
    BertConfig, BertForSequenceClassification, BertTokenizer,
    DistilBertConfig, DistilBertForSequenceClassification, DistilBertTokenizer,
    RobertaConfig, RobertaForSequenceClassification, RobertaTokenizer,
)

out, vocab_txt, texts_file = sys.argv[1:4]
texts = [l.rstrip("\n") for l in open(texts_file, encoding="utf-8")]
torch.manual_seed(7)
vocab_size = sum(1 for _ in open(vocab_txt, encoding="utf-8"))
# Large initial weights, so that the outputs differ clearly from text to text.
init = 0.4
models = {}

d = os.path.join(out, "bert")
cfg = BertConfig(vocab_size=vocab_size, hidden_size=32, num_hidden_layers=2,
                 num_attention_heads=4, intermediate_size=64, max_position_embeddings=130,
                 initializer_range=init,
                 id2label={0: "negative", 1: "neutral", 2: "positive"},
                 label2id={"negative": 0, "neutral": 1, "positive": 2})
tok = BertTokenizer(vocab_txt, do_lower_case=True)
models["bert"] = (BertForSequenceClassification(cfg), tok, d)

d = os.path.join(out, "distilbert")
cfg = DistilBertConfig(vocab_size=vocab_size, dim=32, n_layers=2, n_heads=4, hidden_dim=64,
                       max_position_embeddings=130, initializer_range=init,
                       id2label={0: "NEGATIVE", 1: "POSITIVE"},
                       label2id={"NEGATIVE": 0, "POSITIVE": 1})
tok = DistilBertTokenizer(vocab_txt, do_lower_case=True)
models["distilbert"] = (DistilBertForSequenceClassification(cfg), tok, d)

d = os.path.join(out, "roberta")
os.makedirs(d, exist_ok=True)
bpe = ByteLevelBPETokenizer()
bpe.train_from_iterator(texts * 3, vocab_size=400, min_frequency=1,
                        special_tokens=["<s>", "<pad>", "</s>", "<unk>", "<mask>"])
bpe.save_model(d)
tok = RobertaTokenizer(os.path.join(d, "vocab.json"), os.path.join(d, "merges.txt"))
cfg = RobertaConfig(vocab_size=len(tok), hidden_size=32, num_hidden_layers=2,
                    num_attention_heads=4, intermediate_size=64, max_position_embeddings=130,
                    pad_token_id=1, bos_token_id=0, eos_token_id=2, initializer_range=init,
                    id2label={0: "LABEL_0", 1: "LABEL_1", 2: "LABEL_2"},
                    label2id={"LABEL_0": 0, "LABEL_1": 1, "LABEL_2": 2})
models["roberta"] = (RobertaForSequenceClassification(cfg), tok, d)

expected = {}
for name, (model, tok, d) in models.items():
    model.eval()
    model.save_pretrained(d, safe_serialization=True)
    tok.save_pretrained(d)
    with torch.no_grad():
        enc = tok(texts, padding=True, truncation=True, max_length=128, return_tensors="pt")
        probs = model(**enc).logits.softmax(-1)
    expected[name] = probs.tolist()
json.dump(expected, open(os.path.join(out, "expected.json"), "w"))
