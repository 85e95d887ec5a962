/* debugger/expr.c — the small expression language of conditions,
 * addresses and `print`: numbers, registers, symbols, parentheses,
 * + - & | == != < > <= >= && || and unary - ~ ! * (8-byte read).
 *
 * Precedence, loosest first: || && comparisons | & + - unary.  Unlike
 * C, & and | bind tighter than comparisons, so `rax & 0xff == 0x10`
 * means what it looks like.  Symbols are resolved when parsing, so a
 * condition costs a tree walk per evaluation. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "debugger/dbg.h"

enum node_op { N_NUM, N_REG, N_NEG, N_NOT, N_LNOT, N_DEREF, N_ADD, N_SUB, N_AND, N_OR, N_EQ,
               N_NE, N_LT, N_GT, N_LE, N_GE, N_LAND, N_LOR };

struct node {
    enum node_op op;
    int a, b;            /* child indices */
    uint64_t value;
    const struct dbg_reg *reg;
};

#define MAX_NODES 128

struct expr {
    int root, n;
    struct node node[MAX_NODES];
};

struct parser {
    struct debugger *d;
    struct expr *e;
    const char *p;
    char *err;
    size_t errlen;
    bool failed;
};

static void fail(struct parser *ps, const char *what)
{
    if (!ps->failed)
        snprintf(ps->err, ps->errlen, "%s", what);
    ps->failed = true;
}

static int new_node(struct parser *ps, enum node_op op, int a, int b)
{
    if (ps->e->n >= MAX_NODES) {
        fail(ps, "expression too long");
        return 0;
    }
    struct node *n = &ps->e->node[ps->e->n];
    memset(n, 0, sizeof(*n));
    n->op = op;
    n->a = a;
    n->b = b;
    return ps->e->n++;
}

static void skip_space(struct parser *ps)
{
    while (*ps->p == ' ' || *ps->p == '\t')
        ps->p++;
}

static bool eat(struct parser *ps, const char *tok)
{
    skip_space(ps);
    size_t n = strlen(tok);
    if (strncmp(ps->p, tok, n))
        return false;
    /* "&" must not swallow the first half of "&&", nor "<" of "<=" */
    if (n == 1 && (tok[0] == '&' || tok[0] == '|') && ps->p[1] == tok[0])
        return false;
    if (n == 1 && (tok[0] == '<' || tok[0] == '>') && ps->p[1] == '=')
        return false;
    ps->p += n;
    return true;
}

static int parse_or(struct parser *ps);

static int parse_primary(struct parser *ps)
{
    skip_space(ps);
    const char *p = ps->p;
    if (*p == '(') {
        ps->p++;
        int r = parse_or(ps);
        if (!eat(ps, ")"))
            fail(ps, "missing ')'");
        return r;
    }
    if (isdigit((unsigned char)*p)) {
        char *end;
        uint64_t v = strtoull(p, &end, 0);
        if (isalnum((unsigned char)*end) || *end == '_') {
            fail(ps, "bad number");
            return 0;
        }
        ps->p = end;
        int r = new_node(ps, N_NUM, 0, 0);
        ps->e->node[r].value = v;
        return r;
    }
    if (*p == '$')
        p++;
    if (isalpha((unsigned char)*p) || *p == '_' || *p == '.') {
        const char *s = p;
        while (isalnum((unsigned char)*p) || *p == '_' || *p == '.' || *p == '$')
            p++;
        char name[256];
        size_t len = (size_t)(p - s);
        if (len >= sizeof(name)) {
            fail(ps, "name too long");
            return 0;
        }
        memcpy(name, s, len);
        name[len] = 0;
        ps->p = p;
        const struct dbg_reg *reg = reg_find(name);
        if (reg) {
            int r = new_node(ps, N_REG, 0, 0);
            ps->e->node[r].reg = reg;
            return r;
        }
        uint64_t v;
        if (sym_lookup(&ps->d->syms, name, &v)) {
            int r = new_node(ps, N_NUM, 0, 0);
            ps->e->node[r].value = v;
            return r;
        }
        char msg[300];
        snprintf(msg, sizeof(msg), "no register or symbol '%s'", name);
        fail(ps, msg);
        return 0;
    }
    fail(ps, *p ? "syntax error" : "expression expected");
    return 0;
}

static int parse_unary(struct parser *ps)
{
    static const struct { const char *tok; enum node_op op; } un[] = {
        {"-", N_NEG}, {"~", N_NOT}, {"!", N_LNOT}, {"*", N_DEREF}};
    skip_space(ps);
    for (size_t k = 0; k < sizeof(un) / sizeof(un[0]); k++)
        if (ps->p[0] == un[k].tok[0] && !(un[k].op == N_LNOT && ps->p[1] == '=')) {
            ps->p++;
            int a = parse_unary(ps);
            return new_node(ps, un[k].op, a, 0);
        }
    return parse_primary(ps);
}

/* one precedence level: operators with their node kinds */
struct level {
    const char *tok[6];
    enum node_op op[6];
};

static const struct level levels[] = {
    {{"||"}, {N_LOR}},
    {{"&&"}, {N_LAND}},
    {{"==", "!=", "<=", ">=", "<", ">"}, {N_EQ, N_NE, N_LE, N_GE, N_LT, N_GT}},
    {{"|"}, {N_OR}},
    {{"&"}, {N_AND}},
    {{"+", "-"}, {N_ADD, N_SUB}},
};

static int parse_level(struct parser *ps, size_t lv)
{
    if (lv == sizeof(levels) / sizeof(levels[0]))
        return parse_unary(ps);
    int a = parse_level(ps, lv + 1);
    for (;;) {
        if (ps->failed)
            return a;
        bool found = false;
        for (size_t k = 0; k < 6 && levels[lv].tok[k]; k++)
            if (eat(ps, levels[lv].tok[k])) {
                int b = parse_level(ps, lv + 1);
                a = new_node(ps, levels[lv].op[k], a, b);
                found = true;
                break;
            }
        if (!found)
            return a;
    }
}

static int parse_or(struct parser *ps)
{
    return parse_level(ps, 0);
}

struct expr *expr_parse(struct debugger *d, const char *text, char *err, size_t errlen)
{
    struct expr *e = calloc(1, sizeof(*e));
    if (!e) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    struct parser ps = {d, e, text, err, errlen, false};
    e->root = parse_or(&ps);
    skip_space(&ps);
    if (!ps.failed && *ps.p) {
        snprintf(err, errlen, "unexpected '%s'", ps.p);
        ps.failed = true;
    }
    if (ps.failed) {
        free(e);
        return NULL;
    }
    return e;
}

void expr_free(struct expr *e)
{
    free(e);
}

static bool eval(struct debugger *d, const struct expr *e, int i, uint64_t *out)
{
    const struct node *n = &e->node[i];
    uint64_t a = 0, b = 0;
    switch (n->op) {
    case N_NUM:
        *out = n->value;
        return true;
    case N_REG:
        *out = n->reg->get(d->c, n->reg->arg);
        return true;
    case N_LAND:
        if (!eval(d, e, n->a, &a))
            return false;
        if (!a) {
            *out = 0;
            return true;
        }
        if (!eval(d, e, n->b, &b))
            return false;
        *out = b != 0;
        return true;
    case N_LOR:
        if (!eval(d, e, n->a, &a))
            return false;
        if (a) {
            *out = 1;
            return true;
        }
        if (!eval(d, e, n->b, &b))
            return false;
        *out = b != 0;
        return true;
    default:
        break;
    }
    if (!eval(d, e, n->a, &a))
        return false;
    switch (n->op) {
    case N_NEG: *out = -a; return true;
    case N_NOT: *out = ~a; return true;
    case N_LNOT: *out = !a; return true;
    case N_DEREF: {
        uint64_t v = 0;
        if (dbg_read_lin(d, a, &v, 8) != 8)
            return false;
        *out = v;
        return true;
    }
    default:
        break;
    }
    if (!eval(d, e, n->b, &b))
        return false;
    switch (n->op) {
    case N_ADD: *out = a + b; break;
    case N_SUB: *out = a - b; break;
    case N_AND: *out = a & b; break;
    case N_OR: *out = a | b; break;
    case N_EQ: *out = a == b; break;
    case N_NE: *out = a != b; break;
    case N_LT: *out = a < b; break;
    case N_GT: *out = a > b; break;
    case N_LE: *out = a <= b; break;
    case N_GE: *out = a >= b; break;
    default: return false;
    }
    return true;
}

bool expr_eval(struct debugger *d, const struct expr *e, uint64_t *out)
{
    return eval(d, e, e->root, out);
}

bool dbg_eval(struct debugger *d, const char *text, uint64_t *out)
{
    char err[320];
    struct expr *e = expr_parse(d, text, err, sizeof(err));
    if (!e) {
        dbg_printf(d, "%s\n", err);
        return false;
    }
    bool ok = expr_eval(d, e, out);
    if (!ok)
        dbg_printf(d, "cannot read memory for '%s'\n", text);
    expr_free(e);
    return ok;
}
