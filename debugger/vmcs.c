/* debugger/vmcs.c — the `vmcs` command: VMX operation at a glance and
 * the current VMCS's fields by name, from the one field table
 * (vmx/vmcs_fields.def) the CPU uses. */
#include <inttypes.h>
#include <string.h>
#include <strings.h>

#include "cpu/cpu.h"
#include "debugger/dbg.h"
#include "vmx/vmx.h"

static const char *const type_names[4] = {"control", "exit", "guest", "host"};

static void print_field(struct debugger *d, int id)
{
    const struct vmx *v = &d->c->vmx;
    uint32_t enc = vmcs_field_encoding(id);
    unsigned width = (unsigned[]){16, 64, 32, 64}[vmcs_enc_width(enc)];
    uint64_t val = v->vmcs.f[id];
    const char *meaning = NULL;
    if (id == VF_EXIT_REASON)
        meaning = vmx_exit_reason_name(val & 0xffff);
    else if (id == VF_VM_INSTRUCTION_ERROR)
        meaning = vmx_error_name((unsigned)val);
    dbg_printf(d, "  %-30s %04x  %-7s %2u  0x%0*" PRIx64 "%s%s%s%s\n", vmcs_field_name(id), enc,
               type_names[vmcs_enc_type(enc)], width, (int)width / 4, val,
               meaning ? "  " : "", id == VF_EXIT_REASON && (val >> 31) ? "VM-entry failure: " : "",
               meaning ? meaning : "", "");
}

DBG_HANDLER(cmd_vmcs)
{
    (void)rest;
    const struct vmx *v = &d->c->vmx;
    if (!v->on) {
        dbg_printf(d, "VMX: off (not in VMX operation)\n");
        return CMD_STAY;
    }
    const char *what = argc > 1 ? argv[1] : "summary";
    bool have_vmcs = v->current != VMX_INVALID_PTR;
    if (!strcmp(what, "summary")) {
        dbg_printf(d, "VMX: %s operation, VMXON region 0x%" PRIx64 "\n",
                   v->nonroot ? "non-root" : "root", v->vmxon_ptr);
        if (have_vmcs)
            dbg_printf(d, "current VMCS 0x%" PRIx64 " (%s), %" PRIu64 " entries, %" PRIu64
                          " exits\n",
                       v->current, v->vmcs.launched ? "launched" : "clear", v->entries, v->exits);
        else
            dbg_printf(d, "no current VMCS\n");
        if (v->entry_failure)
            dbg_printf(d, "last VM entry failed: %s\n", v->entry_failure);
        return CMD_STAY;
    }
    if (!have_vmcs) {
        dbg_printf(d, "vmcs: no current VMCS\n");
        return CMD_STAY;
    }
    int want_type = -1;
    for (int t = 0; t < 4; t++)
        if (!strcmp(what, type_names[t]))
            want_type = t;
    if (want_type >= 0 || !strcmp(what, "all")) {
        for (int k = 0; k < VMCS_NFIELDS; k++)
            if (vmcs_field_implemented(k) &&
                (want_type < 0 || (int)vmcs_enc_type(vmcs_field_encoding(k)) == want_type))
                print_field(d, k);
        return CMD_STAY;
    }
    for (int a = 1; a < argc; a++) {
        int id = vmcs_field_by_name(argv[a]);
        if (id < 0) {
            dbg_printf(d, "vmcs: no field '%s' (`vmcs all` lists them)\n", argv[a]);
            continue;
        }
        print_field(d, id);
    }
    return CMD_STAY;
}
