/* frontend/main.c — TEMPORARY stand-in until the lead writes the real
 * main loop: parses the command line and exits (0 ok, 2 bad flags). */
#include <stdlib.h>

#include "frontend/config.h"

int main(int argc, char **argv)
{
    struct config cfg;

    switch (config_parse(&cfg, argc, argv)) {
    case CONFIG_ERROR:
        return 2;
    default:
        return EXIT_SUCCESS;
    }
}
