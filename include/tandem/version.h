/* tandem's version, for the binary and, later, for plugins built against these headers.
 * Same major = compatible command line, rule API, event log and plugin ABI. */
#ifndef TANDEM_VERSION_H
#define TANDEM_VERSION_H

#define TANDEM_VERSION_MAJOR 0
#define TANDEM_VERSION_MINOR 1
#define TANDEM_VERSION_PATCH 0
#define TANDEM_VERSION "0.1.0"

#endif
