/* convkit summary --format svg: the network as the data flows through it.
 * One row per input and layer, top to bottom; each row's bar is as long as
 * the output's spatial side and as thick as its channel count (log scales
 * where the sizes span orders of magnitude). The failing layer is red with
 * its diagnostic underneath, layers not reached are grey, and curves on the
 * left join a layer to inputs that are not the row above it (skips, joins).
 * The output is one standalone SVG 1.1 document; every text is escaped and
 * made valid UTF-8. */
#include "report/report.h"

#include <math.h>
#include <string.h>

enum {
    MARGIN = 16,
    GUTTER = 44, /* room for the skip curves */
    ROW_H = 30,
    LINE_H = 16,
    BAR_MAX = 320,
    BAR_MIN = 6,
    THICK_MIN = 4,
    THICK_MAX = 22,
    NAME_MAX = 56,  /* characters of a label before it is cut */
    TEXT_MAX = 160, /* characters of a diagnostic line before it is cut */
};
static const double CHAR_W = 7.3; /* monospace 12px advance, for layout */

/* ---- text ---------------------------------------------------------------- */

/* Length of the valid UTF-8 sequence at s that XML 1.0 allows as a Char,
 * 0 if there is none (a stray byte, an overlong form, a surrogate, a control
 * character, U+FFFE/U+FFFF). */
static int xml_char_len(const unsigned char *s) {
    unsigned c = s[0];
    if (c < 0x80) return (c >= 0x20 || c == '\t') ? 1 : 0;
    int n = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC2 ? 2 : 0;
    if (n == 0 || c > 0xF4) return 0;
    unsigned cp = c & (0x7F >> (n + 1));
    for (int i = 1; i < n; i++) {
        if ((s[i] & 0xC0) != 0x80) return 0;
        cp = (cp << 6) | (s[i] & 0x3F);
    }
    if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10FFFF))) return 0;
    if ((cp >= 0xD800 && cp <= 0xDFFF) || cp == 0xFFFE || cp == 0xFFFF) return 0;
    return n;
}

/* Characters of s as svg_text writes them (at most max). */
static int text_len(const char *s, int max) {
    int n = 0;
    const unsigned char *p = (const unsigned char *)(s ? s : "");
    while (*p) {
        int l = xml_char_len(p);
        p += l ? l : 1;
        n++;
    }
    return n > max ? max : n;
}

/* Writes s as XML character data, cut to max characters ("..." at the end). */
static void svg_text(ck_str *out, const char *s, int max) {
    const unsigned char *p = (const unsigned char *)(s ? s : "");
    int total = text_len(s, 1 << 30), n = 0;
    bool cut = total > max;
    while (*p) {
        if (cut && n == max - 3) {
            ck_str_add(out, "...");
            return;
        }
        int l = xml_char_len(p);
        if (l == 0) {
            ck_str_add(out, "?");
            p++;
        } else if (l > 1) {
            ck_str_addf(out, "%.*s", l, (const char *)p);
            p += l;
        } else {
            switch (*p) {
            case '&':
                ck_str_add(out, "&amp;");
                break;
            case '<':
                ck_str_add(out, "&lt;");
                break;
            case '>':
                ck_str_add(out, "&gt;");
                break;
            case '"':
                ck_str_add(out, "&quot;");
                break;
            case '\'':
                ck_str_add(out, "&apos;");
                break;
            default:
                ck_str_addf(out, "%c", *p);
            }
            p++;
        }
        n++;
    }
}

/* <text x y class>escaped</text> */
static void svg_line(ck_str *out, double x, double y, const char *cls, const char *s, int max) {
    ck_str_addf(out, "<text x=\"%.1f\" y=\"%.1f\" class=\"%s\">", x, y, cls);
    svg_text(out, s, max);
    ck_str_add(out, "</text>\n");
}

/* ---- rows ---------------------------------------------------------------- */

typedef struct row {
    const char *name;  /* layer or input name */
    const char *value; /* the value it produces */
    char label[256];   /* "conv1 (Conv2d)" */
    char right[512];   /* shape, receptive field, where the input comes from */
    ck_layer_state state;
    bool input;
    const char *op;
    bool has_shape;
    double side; /* geometric mean of the spatial sizes; 1 for feature vectors */
    double ch;   /* channels or features */
    int n_msg;
    const char *msg[8]; /* diagnostic lines under a failed layer */
    int n_src;
    int src[4]; /* rows whose outputs this layer reads, when not just the row above */
    double y;   /* top of the row */
} row;

typedef struct name_ix {
    const char *name;
    int row;
} name_ix;

static int cmp_name(const void *a, const void *b) {
    return strcmp(((const name_ix *)a)->name, ((const name_ix *)b)->name);
}

/* The row that produces value `v` (an input or a layer's output). -1 if none. */
static int find_row(const name_ix *ix, int n, const char *v) {
    name_ix key = {.name = v};
    const name_ix *hit = bsearch(&key, ix, (size_t)n, sizeof *ix, cmp_name);
    return hit ? hit->row : -1;
}

static void shape_measure(const ck_shape *s, bool channels_last, row *r) {
    r->has_shape = s->rank > 0;
    r->side = 1;
    r->ch = 1;
    if (s->rank >= 3) {
        int cax = channels_last ? s->rank - 1 : 1;
        double prod = 1;
        int nsp = 0;
        for (int i = 1; i < s->rank; i++)
            if (i != cax) {
                prod *= (double)(s->d[i] > 0 ? s->d[i] : 1);
                nsp++;
            }
        r->side = pow(prod, 1.0 / nsp);
        r->ch = (double)(s->d[cax] > 0 ? s->d[cax] : 1);
    } else if (s->rank >= 1) {
        r->ch = (double)(s->d[s->rank - 1] > 0 ? s->d[s->rank - 1] : 1);
    }
}

static const char *fill_of(const row *r) {
    if (r->input) return "#555555";
    if (r->state == CK_LAYER_FAILED) return "#d62728";
    if (r->state == CK_LAYER_NOT_REACHED) return "#e4e4e4";
    const char *op = r->op ? r->op : "";
    if (strstr(op, "conv")) return "#4a78c2";
    if (strstr(op, "pool")) return "#4aa564";
    if (!strcmp(op, "linear") || !strcmp(op, "matmul")) return "#e08a2e";
    if (!strcmp(op, "add") || !strcmp(op, "concat") || !strcmp(op, "mul") || !strcmp(op, "sub") ||
        !strcmp(op, "div"))
        return "#8e5ec2";
    if (!strcmp(op, "resize")) return "#2ba3a8";
    return "#9ab0cc";
}

/* " RF 435 j 32" from the layer's receptive field (aligned, equal axes). */
static void rf_note(const ck_rf_table *rt, int layer, char *buf, size_t n) {
    ck_rf rf;
    buf[0] = 0;
    if (!rt || ck_rf_layer(rt, layer, &rf) != CK_OK || rf.nsp == 0) return;
    const ck_rf_axis *a = &rf.axis[0];
    bool global = true, same = true;
    for (int q = 0; q < rf.nsp; q++) {
        const ck_rf_axis *b = &rf.axis[q];
        global &= b->kind == CK_RF_GLOBAL;
        same &= b->kind == CK_RF_LOCAL && b->n_paths == 1 && a->n_paths == 1 &&
                b->paths[0].size == a->paths[0].size && b->paths[0].jump == a->paths[0].jump;
    }
    if (global)
        snprintf(buf, n, "  RF global");
    else if (same)
        snprintf(buf, n, "  RF %.6g, jump %.6g", a->paths[0].size, a->paths[0].jump);
    else if (a->kind == CK_RF_LOCAL && a->n_paths > 1)
        snprintf(buf, n, "  RF not aligned");
}

void ck_rp_svg(ck_str *out, const char *model, const ck_graph *g, const ck_diags *d,
               const ck_rf_table *rt) {
    int ni = ck_graph_num_inputs(g), nl = ck_graph_num_layers(g), n = ni + nl;
    size_t cnt = n > 0 ? (size_t)n : 1;
    row *rows = calloc(cnt, sizeof *rows);
    name_ix *ix = calloc(cnt, sizeof *ix);
    if (!rows || !ix) {
        free(rows);
        free(ix);
        return;
    }
    bool cl = ck_graph_input_channels_last(g, 0);
    char buf[256];
    for (int i = 0; i < ni; i++) {
        row *r = &rows[i];
        ck_shape s = ck_graph_input_shape(g, i);
        r->name = ck_graph_input_name(g, i);
        r->value = r->name;
        r->input = true;
        snprintf(r->label, sizeof r->label, "%s (Input)", r->name);
        snprintf(r->right, sizeof r->right, "%s", ck_shape_str(&s, buf, sizeof buf));
        shape_measure(&s, ck_graph_input_channels_last(g, i), r);
    }
    for (int i = 0; i < nl; i++) {
        row *r = &rows[ni + i];
        ck_layer_info li = ck_graph_layer(g, i);
        r->name = li.name;
        r->value = li.output_name;
        r->op = li.op;
        r->state = li.state;
        snprintf(r->label, sizeof r->label, "%s (%s)", li.name, li.type);
        if (li.state == CK_LAYER_OK) {
            char rf[96];
            rf_note(rt, i, rf, sizeof rf);
            snprintf(r->right, sizeof r->right, "%s%s", ck_shape_str(&li.output, buf, sizeof buf),
                     rf);
            shape_measure(&li.output, cl, r);
        } else {
            snprintf(r->right, sizeof r->right, "%s",
                     li.state == CK_LAYER_FAILED ? "FAILED" : "not reached");
        }
    }
    for (int i = 0; i < n; i++) ix[i] = (name_ix){rows[i].value, i};
    qsort(ix, (size_t)n, sizeof *ix, cmp_name);
    /* sources of each layer; a failed layer is drawn at its input's size */
    for (int i = 0; i < nl; i++) {
        row *r = &rows[ni + i];
        ck_layer_info li = ck_graph_layer(g, i);
        bool from_above = li.n_inputs == 1;
        for (int k = 0; k < li.n_inputs && r->n_src < 4; k++) {
            int s = find_row(ix, n, li.inputs[k]);
            if (s < 0 || s >= ni + i) continue;
            if (s != ni + i - 1 || li.n_inputs > 1) r->src[r->n_src++] = s;
            if (k == 0 && r->state == CK_LAYER_FAILED && rows[s].has_shape) {
                r->side = rows[s].side;
                r->ch = rows[s].ch;
                r->has_shape = true;
            }
            from_above &= s == ni + i - 1;
        }
        if (!from_above && li.n_inputs > 0) {
            size_t off = strlen(r->right);
            off += (size_t)snprintf(r->right + off, sizeof r->right - off, " | from ");
            for (int k = 0; k < li.n_inputs && off < sizeof r->right; k++)
                off += (size_t)snprintf(r->right + off, sizeof r->right - off, "%s%s",
                                        k ? ", " : "", li.inputs[k]);
        }
        if (r->state != CK_LAYER_FAILED) continue;
        for (int k = 0; d && k < d->n; k++) {
            const ck_diag *dg = &d->v[k];
            if (dg->severity != CK_SEV_ERROR || !dg->layer || strcmp(dg->layer, li.name)) continue;
            const char *lines[] = {dg->message, dg->input, dg->formula, dg->shrink};
            for (int m = 0; m < 4 && r->n_msg < 8; m++)
                if (lines[m]) r->msg[r->n_msg++] = lines[m];
            for (int m = 0; m < dg->n_notes && r->n_msg < 8; m++) r->msg[r->n_msg++] = dg->notes[m];
            break;
        }
    }
    /* scales: log where the largest is more than 16 times the smallest */
    double smin = INFINITY, smax = 0, cmax = 1;
    for (int i = 0; i < n; i++) {
        if (!rows[i].has_shape) continue;
        if (rows[i].side < smin) smin = rows[i].side;
        if (rows[i].side > smax) smax = rows[i].side;
        if (rows[i].ch > cmax) cmax = rows[i].ch;
    }
    if (!(smax > 0)) smin = smax = 1;
    bool slog = smax / smin > 16;
    /* layout */
    int wl = 12, wr = 40;
    for (int i = 0; i < n; i++) {
        int l = text_len(rows[i].label, NAME_MAX);
        if (l > wl) wl = l;
        l = text_len(rows[i].right, TEXT_MAX);
        if (l > wr) wr = l;
    }
    double x_label = MARGIN + GUTTER, x_bar = x_label + wl * CHAR_W + 12;
    double x_right = x_bar + BAR_MAX + 12;
    double width = x_right + wr * CHAR_W + MARGIN;
    for (int i = 0; i < n; i++)
        for (int m = 0; m < rows[i].n_msg; m++) {
            double w = x_bar + text_len(rows[i].msg[m], TEXT_MAX) * CHAR_W + MARGIN;
            if (w > width) width = w;
        }
    double y = MARGIN + 3 * LINE_H + 8;
    for (int i = 0; i < n; i++) {
        rows[i].y = y;
        y += ROW_H + rows[i].n_msg * LINE_H + (rows[i].n_msg ? 6 : 0);
    }
    double height = y + MARGIN;
    /* document */
    ck_str_add(out, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    ck_str_addf(out,
                "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"%.0f\" "
                "height=\"%.0f\" viewBox=\"0 0 %.0f %.0f\">\n",
                ceil(width), ceil(height), ceil(width), ceil(height));
    ck_str_add(
        out, "<style>\n"
             "text { font-family: 'DejaVu Sans Mono', monospace; font-size: 12px; fill: #222222 }\n"
             "text.title { font-size: 14px; font-weight: bold }\n"
             "text.note { fill: #666666 }\n"
             "text.err { fill: #b00000 }\n"
             "text.grey { fill: #999999 }\n"
             "</style>\n");
    ck_str_addf(out, "<rect x=\"0\" y=\"0\" width=\"%.0f\" height=\"%.0f\" fill=\"#ffffff\"/>\n",
                ceil(width), ceil(height));
    ck_str t = {0};
    ck_str_addf(&t, "convkit summary: %s (%s)", model ? model : "",
                ck_dialect_name(ck_graph_dialect(g)));
    svg_line(out, MARGIN, MARGIN + 12, "title", t.p, TEXT_MAX);
    ck_str_free(&t);
    int errors = d ? ck_diags_errors(d) : 0, failed = -1;
    for (int i = ni; i < n && failed < 0; i++)
        if (rows[i].state == CK_LAYER_FAILED) failed = i;
    if (errors || failed >= 0)
        ck_str_addf(&t, "invalid: %d error(s)%s%s", errors, failed >= 0 ? ", first at " : "",
                    failed >= 0 ? rows[failed].name : "");
    else
        ck_str_addf(&t, "valid: %d layers", nl);
    svg_line(out, MARGIN, MARGIN + 12 + LINE_H, errors ? "err" : "note", t.p, TEXT_MAX);
    ck_str_free(&t);
    ck_str_addf(&t, "bar length: spatial size (%s scale), thickness: channels (log scale)",
                slog ? "log" : "linear");
    svg_line(out, MARGIN, MARGIN + 12 + 2 * LINE_H, "note", t.p, TEXT_MAX);
    ck_str_free(&t);
    for (int i = 0; i < n; i++) {
        const row *r = &rows[i];
        double mid = r->y + ROW_H / 2.0;
        /* curves from the rows it reads */
        for (int k = 0; k < r->n_src; k++) {
            const row *s = &rows[r->src[k]];
            double ys = s->y + ROW_H / 2.0, dx = 8 + fmin(GUTTER - 12, 4 * log2(1 + i - r->src[k]));
            ck_str_addf(out,
                        "<path d=\"M %.1f %.1f C %.1f %.1f %.1f %.1f %.1f %.1f\" fill=\"none\" "
                        "stroke=\"#a0a0a0\" stroke-width=\"1\"/>\n",
                        x_label - 4, ys, x_label - 4 - dx, ys, x_label - 4 - dx, mid, x_label - 4,
                        mid);
            ck_str_addf(out, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"2\" fill=\"#a0a0a0\"/>\n",
                        x_label - 4, mid);
        }
        const char *cls = r->state == CK_LAYER_NOT_REACHED ? "grey"
                          : r->state == CK_LAYER_FAILED    ? "err"
                                                           : "";
        ck_str_add(out, "<g>\n<title>");
        svg_text(out, r->label, 1 << 20);
        ck_str_add(out, "</title>\n");
        svg_line(out, x_label, mid + 4, cls, r->label, NAME_MAX);
        double len = BAR_MIN * 6, th = 8;
        if (r->has_shape) {
            double frac =
                slog ? (smax > smin ? log(r->side / smin) / log(smax / smin) : 1) : r->side / smax;
            len = BAR_MIN + (BAR_MAX - BAR_MIN) * frac;
            th = THICK_MIN + (THICK_MAX - THICK_MIN) * (cmax > 1 ? log(r->ch) / log(cmax) : 1);
        }
        ck_str_addf(out, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\"",
                    x_bar, mid - th / 2, len, th, fill_of(r));
        if (r->state == CK_LAYER_NOT_REACHED)
            ck_str_add(out, " stroke=\"#aaaaaa\" stroke-dasharray=\"3,2\"");
        else if (r->state == CK_LAYER_FAILED)
            ck_str_add(out, " stroke=\"#7a0000\" stroke-width=\"1.5\"");
        ck_str_add(out, "/>\n");
        svg_line(out, x_right, mid + 4, *cls ? cls : "note", r->right, TEXT_MAX);
        for (int m = 0; m < r->n_msg; m++)
            svg_line(out, x_bar, r->y + ROW_H + 8 + m * LINE_H, "err", r->msg[m], TEXT_MAX);
        ck_str_add(out, "</g>\n");
    }
    ck_str_add(out, "</svg>\n");
    free(rows);
    free(ix);
}
