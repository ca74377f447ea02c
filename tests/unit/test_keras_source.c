/* Fixes of pasted Keras code written back as code (ck_graph_write_source):
 * for every fix of each model, the written text either reads back to a
 * valid network with the fix's layers and shapes and differs from the
 * original only in the changed arguments, or is refused with a reason (a
 * layer built by a loop, an input shape the code does not declare). Exact
 * expected lines for the common edits: an input size, an argument given
 * positionally, an argument given by keyword, one left to its default, an
 * inserted layer wrapped around an operand. */
#include "convkit.h"
#include "test.h"

#include <stdlib.h>
#include <string.h>

static ck_graph *load(const char *text) {
    ck_graph *g = NULL;
    ck_diags d = {0};
    ck_status st = ck_load_memory(text, strlen(text), "model.py", NULL, &g, &d);
    CHECK(st == CK_OK && g, "load: %s", d.n ? d.v[0].message : "?");
    ck_diags_free(&d);
    return g;
}

/* The lines of b that are not lines of a at the same place (after the
 * common start and end), joined; the text outside them is byte-identical. */
static char *changed(const char *a, const char *b, int *n_lines) {
    size_t la = strlen(a), lb = strlen(b), p = 0, s = 0;
    while (p < la && p < lb && a[p] == b[p]) p++;
    while (s < la - p && s < lb - p && a[la - 1 - s] == b[lb - 1 - s]) s++;
    /* widen to whole lines of b */
    size_t lo = p, hi = lb - s;
    while (lo > 0 && b[lo - 1] != '\n') lo--;
    while (hi < lb && b[hi] != '\n') hi++;
    char *r = malloc(hi - lo + 1);
    if (!r) return NULL;
    memcpy(r, b + lo, hi - lo);
    r[hi - lo] = 0;
    *n_lines = 1;
    for (size_t i = lo; i < hi; i++) *n_lines += b[i] == '\n';
    return r;
}

static const ck_fix *fix_named(const ck_fixes *fx, const char *change_prefix) {
    for (int i = 0; i < fx->n; i++) {
        char *s = ck_fix_str(&fx->v[i]);
        bool hit = s && !strncmp(s, change_prefix, strlen(change_prefix));
        ck_free(s);
        if (hit) return &fx->v[i];
    }
    return NULL;
}

/* Every fix of `text`: written and valid, or refused with a diagnostic.
 * Returns how many were written. */
static int every_fix(const char *name, const char *text) {
    ck_graph *g = load(text);
    if (!g) return 0;
    ck_diags d = {0};
    CHECK(ck_check(g, &d) != CK_OK, "%s: the model is meant to fail", name);
    ck_diags_free(&d);
    CHECK(ck_graph_has_source(g), "%s: the graph keeps its code", name);
    ck_fixes fx = {0};
    CHECK(ck_find_fixes(g, &fx, &d) == CK_OK && fx.n > 0, "%s: fixes", name);
    ck_diags_free(&d);
    int written = 0;
    for (int i = 0; i < fx.n; i++) {
        char *fs = ck_fix_str(&fx.v[i]);
        char *out = NULL;
        ck_diags wd = {0};
        ck_status st = ck_graph_write_source(fx.v[i].graph, &out, &wd);
        if (st == CK_OK) {
            written++;
            ck_graph *r = load(out);
            ck_diags rd = {0};
            CHECK(r && ck_check(r, &rd) == CK_OK, "%s: '%s' written does not check: %s", name, fs,
                  rd.n ? rd.v[0].message : "?");
            /* the same layers with the same outputs as the fix's network */
            const ck_graph *f = fx.v[i].graph;
            bool same = r && ck_graph_num_layers(r) == ck_graph_num_layers(f);
            for (int k = 0; same && k < ck_graph_num_layers(f); k++) {
                ck_layer_info a = ck_graph_layer(f, k);
                int j = -1;
                for (int q = 0; q < ck_graph_num_layers(r) && j < 0; q++)
                    if (!strcmp(ck_graph_layer(r, q).name, a.name)) j = q;
                ck_layer_info b = j >= 0 ? ck_graph_layer(r, j) : a;
                same = j >= 0 && a.state == b.state && a.output.rank == b.output.rank &&
                       !memcmp(a.output.d, b.output.d, sizeof(int64_t) * (size_t)a.output.rank);
            }
            CHECK(same, "%s: '%s' written gives other layers than the fix", name, fs);
            ck_diags_free(&rd);
            ck_graph_free(r);
        } else {
            CHECK(st == CK_EINVALID && ck_diags_errors(&wd) > 0 && !out,
                  "%s: '%s' neither written nor refused with a reason (status %d)", name, fs,
                  (int)st);
        }
        ck_free(out);
        ck_free(fs);
        ck_diags_free(&wd);
    }
    ck_fixes_free(&fx);
    ck_graph_free(g);
    return written;
}

/* The one fix whose text starts with `which`, written: the changed lines
 * must be exactly `want` (the rest of the file byte-identical). */
static void one_fix(const char *name, const char *text, const char *which, const char *want) {
    ck_graph *g = load(text);
    if (!g) return;
    ck_diags d = {0};
    ck_check(g, &d);
    ck_diags_free(&d);
    ck_fixes fx = {0};
    ck_find_fixes(g, &fx, &d);
    ck_diags_free(&d);
    const ck_fix *f = fix_named(&fx, which);
    CHECK(f != NULL, "%s: no fix '%s'", name, which);
    char *out = NULL;
    ck_diags wd = {0};
    ck_status st = f ? ck_graph_write_source(f->graph, &out, &wd) : CK_EUSAGE;
    if (!want) {
        CHECK(st == CK_EINVALID && !out && ck_diags_errors(&wd) > 0,
              "%s: '%s' must be refused (status %d)", name, which, (int)st);
        if (wd.n) printf("  %s: %s refused: %s\n", name, which, wd.v[0].message);
    } else {
        CHECK(st == CK_OK && out, "%s: '%s' not written: %s", name, which,
              wd.n ? wd.v[0].message : "?");
        int nl = 0;
        char *c = out ? changed(text, out, &nl) : NULL;
        CHECK(c && !strcmp(c, want), "%s: '%s' changed\n%s\nwant\n%s", name, which,
              c ? c : "(null)", want);
        free(c);
    }
    ck_free(out);
    ck_diags_free(&wd);
    ck_fixes_free(&fx);
    ck_graph_free(g);
}

static const char seq_list[] =
    "import tensorflow as tf\n"
    "model = tf.keras.Sequential([\n"
    "    tf.keras.layers.Conv2D(16, 3, activation='relu', input_shape=(7, 7, 1)),  # first\n"
    "    tf.keras.layers.MaxPooling2D(),\n"
    "    tf.keras.layers.Conv2D(32, 3, activation='relu'),\n"
    "    tf.keras.layers.Flatten(),\n"
    "    tf.keras.layers.Dense(10)\n"
    "])\n"
    "model.compile(optimizer='adam', loss='mse')\n";

static const char seq_add_crlf[] =
    "from keras.models import Sequential\r\n"
    "from keras.layers import Conv2D, MaxPooling2D, Flatten, Dense\r\n"
    "model = Sequential()\r\n"
    "model.add(Conv2D(8, kernel_size=(3, 3), strides=2,\r\n"
    "                 input_shape=(5, 5, 3)))\r\n"
    "model.add(Conv2D(8, kernel_size=(3, 3), strides=2))\r\n"
    "model.add(Flatten())\r\n"
    "model.add(Dense(2))\r\n";

static const char functional[] =
    "import keras\n"
    "from keras import layers\n"
    "\n"
    "inputs = keras.Input(shape=(64, 64, 3))\n"
    "x = layers.Conv2D(32, 3, strides=2, activation=\"relu\")(inputs)\n"
    "y = layers.Conv2D(32, 3, strides=2, padding=\"same\")(inputs)\n"
    "z = layers.add([x, y])\n"
    "outputs = layers.Dense(10)(layers.Flatten()(z))\n"
    "model = keras.Model(inputs=inputs, outputs=outputs)\n";

static const char generator[] =
    "from tensorflow import keras\n"
    "from tensorflow.keras import layers\n"
    "\n"
    "latent = 100\n"
    "generator = keras.Sequential([\n"
    "    layers.Dense(7 * 7 * 128, use_bias=False, input_shape=(latent,)),\n"
    "    layers.BatchNormalization(),\n"
    "    layers.LeakyReLU(),\n"
    "    layers.Reshape((7, 7, 256)),\n"
    "    layers.Conv2DTranspose(64, (5, 5), strides=(2, 2), padding='same'),\n"
    "])\n";

static const char loops[] = "from keras.models import Sequential\n"
                            "from keras.layers import Conv2D, MaxPooling2D, Dense, Flatten\n"
                            "model = Sequential()\n"
                            "model.add(Conv2D(16, 3, padding=\"same\", input_shape=(20, 20, 3)))\n"
                            "for f in [32, 64, 128]:\n"
                            "    model.add(Conv2D(f, 3, activation=\"relu\"))\n"
                            "    model.add(MaxPooling2D(2))\n"
                            "model.add(Flatten())\n"
                            "model.add(Dense(10))\n";

static const char no_input[] =
    "import keras\n"
    "model = keras.Sequential([keras.layers.Conv2D(4, 5), keras.layers.Conv2D(4, 5)])\n";

/* a size written 0 is a size; None is left open */
static const char zero_dim[] = "import tensorflow as tf\n"
                               "model = tf.keras.Sequential([\n"
                               "    tf.keras.layers.Conv2D(16, 3, input_shape=(0, 7, 1)),\n"
                               "    tf.keras.layers.MaxPooling2D(),\n"
                               "    tf.keras.layers.Flatten(),\n"
                               "    tf.keras.layers.Dense(10)\n"
                               "])\n";
static const char none_dim[] = "import tensorflow as tf\n"
                               "model = tf.keras.Sequential([\n"
                               "    tf.keras.layers.Conv2D(16, 3, input_shape=(None, 2, 1)),\n"
                               "    tf.keras.layers.MaxPooling2D(),\n"
                               "    tf.keras.layers.Flatten(),\n"
                               "    tf.keras.layers.Dense(10)\n"
                               "])\n";
static const char none_dims[] = "import tensorflow as tf\n"
                                "model = tf.keras.Sequential([\n"
                                "    tf.keras.layers.Conv2D(16, 3, input_shape=(None, None, 1)),\n"
                                "    tf.keras.layers.MaxPooling2D(),\n"
                                "    tf.keras.layers.Flatten(),\n"
                                "    tf.keras.layers.Dense(10)\n"
                                "])\n";

int main(void) {
    /* every fix: written and valid, or refused with a reason */
    CHECK(every_fix("seq_list", seq_list) >= 4, "seq_list: most fixes written");
    CHECK(every_fix("seq_add_crlf", seq_add_crlf) >= 2, "seq_add_crlf: fixes written");
    CHECK(every_fix("functional", functional) == 2, "functional: both fixes written");
    CHECK(every_fix("generator", generator) >= 1, "generator: the units fix written");
    CHECK(every_fix("loops", loops) >= 1, "loops: the input fix written");

    /* an input size inside its tuple; the comment after it kept */
    one_fix("seq_list", seq_list, "input",
            "    tf.keras.layers.Conv2D(16, 3, activation='relu', input_shape=(8, 8, 1)),  # "
            "first");
    /* an argument left to its default: added after the last one */
    one_fix("seq_list", seq_list, "conv2d_1: padding",
            "    tf.keras.layers.Conv2D(32, 3, activation='relu', padding='same'),");
    /* a positional argument replaced in place */
    one_fix("seq_list", seq_list, "conv2d_1: kernel_size",
            "    tf.keras.layers.Conv2D(32, 2, activation='relu'),");
    /* a call without arguments */
    one_fix("seq_list", seq_list, "max_pooling2d: strides",
            "    tf.keras.layers.MaxPooling2D(strides=1),");
    /* a keyword argument of a call over two lines, CRLF kept */
    one_fix("seq_add_crlf", seq_add_crlf, "conv2d: strides",
            "model.add(Conv2D(8, kernel_size=(3, 3), strides=1,\r");
    one_fix("seq_add_crlf", seq_add_crlf, "conv2d_1: padding",
            "model.add(Conv2D(8, kernel_size=(3, 3), strides=2, padding='same'))\r");
    /* an expression given positionally becomes the number */
    one_fix("generator", generator, "dense: units",
            "    layers.Dense(12544, use_bias=False, input_shape=(latent,)),");
    /* Keras.Input's shape, the file's double quotes for a new layer's name */
    one_fix("functional", functional, "input", "inputs = keras.Input(shape=(3, 3, 3))");
    one_fix("functional", functional, "insert",
            "z = layers.add([layers.ZeroPadding2D(((0, 1), (0, 1)), "
            "name=\"conv2d_pad\")(x), y])");
    /* a layer built in a loop: the edit would change three layers */
    one_fix("loops", loops, "max_pooling2d_2: padding", NULL);
    one_fix("loops", loops, "input",
            "model.add(Conv2D(16, 3, padding=\"same\", "
            "input_shape=(22, 22, 3)))");

    /* a 0 written as a size is replaced; so is None when the fix is an
     * input size (the size the fix was verified at: kept open, a Flatten of
     * it could not feed a Dense) */
    CHECK(every_fix("zero_dim", zero_dim) == 2, "zero_dim: both input fixes written");
    CHECK(every_fix("none_dim", none_dim) >= 1, "none_dim: the input fix written");
    one_fix("zero_dim", zero_dim, "input of at least",
            "    tf.keras.layers.Conv2D(16, 3, input_shape=(4, 4, 1)),");
    one_fix("none_dim", none_dim, "input of at least",
            "    tf.keras.layers.Conv2D(16, 3, input_shape=(4, 4, 1)),");
    one_fix("none_dims", none_dims, "input of at least",
            "    tf.keras.layers.Conv2D(16, 3, input_shape=(4, 4, 1)),");
    /* a network that keeps the input open (its symbols: a layer's fix)
     * keeps None: written back, the code is the same */
    {
        ck_graph *g = load(none_dims);
        char *out = NULL;
        ck_diags d = {0};
        ck_status st = g ? ck_graph_write_source(g, &out, &d) : CK_EUSAGE;
        CHECK(st == CK_OK && out && !strcmp(out, none_dims), "none_dims: None written back: %s",
              out ? out : (d.n ? d.v[0].message : "?"));
        ck_free(out);
        ck_diags_free(&d);
        ck_graph_free(g);
    }

    /* a shape given only with --input: nothing in the code to edit */
    {
        ck_graph *g = load(no_input);
        ck_shape s = {.rank = 4, .d = {1, 7, 7, 3}};
        if (g) ck_graph_set_input_shape(g, 0, &s);
        ck_diags d = {0};
        ck_fixes fx = {0};
        if (g) ck_check(g, &d), ck_find_fixes(g, &fx, &d);
        ck_diags_free(&d);
        const ck_fix *f = fix_named(&fx, "input");
        char *out = NULL;
        ck_status st = f ? ck_graph_write_source(f->graph, &out, &d) : CK_EUSAGE;
        CHECK(st == CK_EINVALID && !out && d.n && strstr(d.v[0].message, "--input"),
              "an input from --input cannot be written into the code (status %d)", (int)st);
        ck_diags_free(&d);
        ck_fixes_free(&fx);
        ck_graph_free(g);
    }
    /* graphs without code: JSON, .cnn */
    {
        ck_graph *g = NULL;
        ck_diags d = {0};
        ck_load_file("tests/keras/json/k2_seq_cnn.json", NULL, &g, &d);
        char *out = NULL;
        CHECK(g && !ck_graph_has_source(g), "a Keras JSON keeps no code");
        CHECK(ck_graph_write_source(g, &out, &d) == CK_EUSAGE && !out && d.n,
              "writing a JSON model's code is a usage error");
        ck_graph_free(g);
        ck_diags_free(&d);
        const char cnn[] = "input: [1, 3, 8, 8]\nc = Conv2d(3, 4, 3)\n";
        CHECK(ck_parse_cnn(cnn, sizeof cnn - 1, "m.cnn", NULL, &g, &d) == CK_OK &&
                  !ck_graph_has_source(g),
              ".cnn text keeps no code");
        ck_graph_free(g);
        ck_diags_free(&d);
    }
    /* a .cnn file holding Keras code is code */
    {
        ck_graph *g = NULL;
        ck_diags d = {0};
        CHECK(ck_parse_cnn(seq_list, sizeof seq_list - 1, "m.cnn", NULL, &g, &d) == CK_OK &&
                  ck_graph_has_source(g),
              "Keras code in a .cnn keeps its code");
        ck_graph_free(g);
        ck_diags_free(&d);
    }
    return TEST_DONE("keras_source");
}
