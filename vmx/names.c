/* vmx/names.c — names for exit reasons and VM-instruction errors (from
 * their .def tables), and the -d vmx log line. */
#include <stdarg.h>
#include <stdio.h>
#include <strings.h>

#include "cpu/cpu.h"
#include "vmx/vmx.h"

const char *vmx_exit_reason_name(unsigned reason)
{
    switch (reason) {
#define EXIT_REASON(name, num, text) case num: return text;
#include "vmx/exit_reasons.def"
#undef EXIT_REASON
    default: return NULL;
    }
}

const char *vmx_error_name(unsigned error)
{
    switch (error) {
#define VMX_ERROR(name, num, text) case num: return text;
#include "vmx/errors.def"
#undef VMX_ERROR
    default: return NULL;
    }
}

int vmx_exit_reason_by_name(const char *name)
{
#define EXIT_REASON(nm, num, text) if (!strcasecmp(name, #nm)) return num;
#include "vmx/exit_reasons.def"
#undef EXIT_REASON
    return -1;
}

void vmx_log(const struct cpu *c, const char *fmt, ...)
{
    if (!c->vmx_trace)
        return;
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    c->vmx_trace(c->vmx_trace_opaque, line);
}
