/* convkit: check, explain and run convolutional networks. */
#include "cli/cli.h"

#include <string.h>

static const char usage[] =
    "usage: convkit <command> MODEL [options]\n"
    "\n"
    "commands:\n"
    "  check MODEL [--input SHAPE] [--json]      shapes through every layer; the first failure "
    "explained\n"
    "  summary MODEL [--format table|json|md|svg]  layers, shapes, MACs, receptive fields\n"
    "  sizes MODEL [--range A:B]                 every input size the network accepts\n"
    "  fix MODEL [--write FILE]                  verified fixes for the first failure\n"
    "  run MODEL [--input x.npy] [-o y.npy]      forward pass on the CPU (float32)\n"
    "  bench MODEL [--input SHAPE] [--runs N]    time the forward pass (median, min, max ms)\n"
    "\n"
    "MODEL is a .cnn spec, an .onnx file or a Keras model .json (told apart by content).\n"
    "SHAPE is 1x3x224x224 or [1,3,224,224]; NAME=SHAPE for a named input.\n"
    "exit status: 0 valid, 1 invalid model, 2 bad usage or unreadable file.\n"
    "run 'convkit COMMAND --help' for a command's options.\n";

int cmd_run(int argc, char **argv); /* src/cli/run.c */

int main(int argc, char **argv) {
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") ||
        !strcmp(argv[1], "help")) {
        fputs(usage, argc < 2 ? stderr : stdout);
        return argc < 2 ? EXIT_USAGE : 0;
    }
    if (!strcmp(argv[1], "--version")) {
        printf("convkit %s\n", ck_version());
        return 0;
    }
    if (!strcmp(argv[1], "check")) return cmd_check(argc - 1, argv + 1);
    if (!strcmp(argv[1], "summary")) return cmd_summary(argc - 1, argv + 1);
    if (!strcmp(argv[1], "sizes")) return cmd_sizes(argc - 1, argv + 1);
    if (!strcmp(argv[1], "fix")) return cmd_fix(argc - 1, argv + 1);
    if (!strcmp(argv[1], "run")) return cmd_run(argc - 1, argv + 1);
    if (!strcmp(argv[1], "bench")) return cmd_bench(argc - 1, argv + 1);
    fprintf(stderr, "convkit: unknown command '%s'\n\n%s", argv[1], usage);
    return EXIT_USAGE;
}
