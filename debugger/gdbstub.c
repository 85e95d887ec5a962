#include "debugger/dbg.h"
struct gdbstub { int x; };
struct gdbstub *gdb_open(struct debugger *d, int port, char *err, size_t errlen) { (void)d; (void)port; snprintf(err, errlen, "-gdb (the GDB stub) is not implemented yet"); return NULL; }
void gdb_close(struct gdbstub *g, int status) { (void)g; (void)status; }
bool gdb_attached(const struct gdbstub *g) { (void)g; return false; }
enum cmd_result gdb_serve(struct gdbstub *g) { (void)g; return CMD_QUIT; }
void gdb_poll(struct gdbstub *g, bool w) { (void)g; (void)w; }
