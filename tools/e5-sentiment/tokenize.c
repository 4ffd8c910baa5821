/* The vendored e5.c engine plus one entry point for the fine-tuning script: the token ids
 * e5.c itself feeds the model (prefix, <s>, SentencePiece pieces, </s>), so training sees
 * exactly the tokens inference will. Built by finetune.py with the system C compiler. */
#include "../../src/sentiment/e5/e5.c"

int e5_tokenize(e5_model *m, const char *text, int is_query, int *out, int cap) {
    const char *pfx = is_query ? "query: " : "passage: ";
    size_t plen = strlen(pfx), tl = strlen(text);
    char *buf = (char *)malloc(plen + tl + 1);
    memcpy(buf, pfx, plen);
    memcpy(buf + plen, text, tl + 1);
    int capc = (int)(plen + tl) + 4;
    int *c = (int *)malloc(sizeof(int) * capc);
    int n = tok_content(&m->tok, buf, c, capc);
    free(buf);
    if (n > cap - 2) n = cap - 2;
    out[0] = m->tok.bos;
    for (int i = 0; i < n; i++) out[i + 1] = c[i];
    out[n + 1] = m->tok.eos;
    free(c);
    return n + 2;
}
