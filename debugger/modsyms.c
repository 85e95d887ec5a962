/* debugger/modsyms.c — `symbols modules DIR`: a Linux guest's module
 * symbols, loaded as the guest loads its modules, so that `break
 * vmx_vcpu_run` or a stack through kvm.ko needs no address from the
 * user.  `catch module [NAME]` stops once they are loaded.
 *
 * Linux finishes loading a module in do_init_module(struct module *mod)
 * (kernel/module/main.c): the sections are in place and relocated, the
 * init function not yet called.  The debugger stops there (silently),
 * reads the module's name, finds NAME.ko in DIR and places its symbols.
 *
 * struct module's layout changes between kernels, so the few offsets
 * needed come from the .ko itself: the module's struct module is the
 * file's .gnu.linkonce.this_module section, copied, and
 *   - its name is at offset 24 (after `enum module_state state` and
 *     `struct list_head list`, unchanged since Linux 2.6);
 *   - the relocation of that section against init_module gives the
 *     offset of `init`, which holds the init function's address, so
 *     init_module's section (.init.text) is placed exactly;
 *     (a module without one — irqbypass — uses the offset another .ko
 *     in DIR gives: the layout is the kernel's, not the module's);
 *   - the next non-zero word after `init` is the base of the module's
 *     core text: `core_layout.base` (Linux up to 6.3) or
 *     `mem[MOD_TEXT].base` (6.4 on) both come right after `init`.
 *     Linux lays the executable sections out from there in file order,
 *     aligned, which is what `symbols FILE BASE` does (symbols.c). */
#include <dirent.h>
#include <elf.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "debugger/dbg.h"

#define MOD_NAME_OFF 24
#define MOD_NAME_LEN 56 /* MODULE_NAME_LEN on 64-bit */

struct modsyms {
    char dir[512];
    uint64_t hook;     /* do_init_module */
    uint64_t init_off; /* offsetof(struct module, init), from any .ko in dir */
    unsigned loaded;
};

/* What the .ko says about its struct module. */
struct ko_info {
    uint64_t this_size;   /* sizeof(struct module) */
    uint64_t init_off;    /* offsetof(struct module, init), 0 if none */
    uint64_t init_value;  /* init_module's offset in its section */
    char init_sec[64];    /* that section's name */
    char name[MOD_NAME_LEN];
};

static const char *sec_name(const uint8_t *img, size_t size, const Elf64_Ehdr *eh,
                            const Elf64_Shdr *sh, unsigned k)
{
    const Elf64_Shdr *names = &sh[eh->e_shstrndx];
    if (eh->e_shstrndx >= eh->e_shnum || names->sh_offset + names->sh_size > size ||
        sh[k].sh_name >= names->sh_size)
        return "";
    return (const char *)img + names->sh_offset + sh[k].sh_name;
}

static bool parse_ko(const uint8_t *img, size_t size, struct ko_info *ki)
{
    const Elf64_Ehdr *eh = (const Elf64_Ehdr *)img;
    if (size < sizeof(*eh) || memcmp(img, ELFMAG, SELFMAG) || img[EI_CLASS] != ELFCLASS64 ||
        eh->e_type != ET_REL || eh->e_shoff + (uint64_t)eh->e_shnum * sizeof(Elf64_Shdr) > size)
        return false;
    const Elf64_Shdr *sh = (const Elf64_Shdr *)(img + eh->e_shoff);
    unsigned this = 0;
    for (unsigned k = 1; k < eh->e_shnum; k++)
        if (!strcmp(sec_name(img, size, eh, sh, k), ".gnu.linkonce.this_module"))
            this = k;
    if (!this || sh[this].sh_offset + sh[this].sh_size > size ||
        sh[this].sh_size < MOD_NAME_OFF + MOD_NAME_LEN)
        return false;
    ki->this_size = sh[this].sh_size;
    memcpy(ki->name, img + sh[this].sh_offset + MOD_NAME_OFF, MOD_NAME_LEN);
    ki->name[MOD_NAME_LEN - 1] = 0;
    for (unsigned k = 1; k < eh->e_shnum; k++) {
        const Elf64_Shdr *rs = &sh[k];
        if (rs->sh_type != SHT_RELA || rs->sh_info != this || rs->sh_link >= eh->e_shnum ||
            rs->sh_offset + rs->sh_size > size)
            continue;
        const Elf64_Shdr *symtab = &sh[rs->sh_link];
        if (symtab->sh_link >= eh->e_shnum || symtab->sh_offset + symtab->sh_size > size)
            continue;
        const Elf64_Shdr *strs = &sh[symtab->sh_link];
        const Elf64_Rela *r = (const Elf64_Rela *)(img + rs->sh_offset);
        const Elf64_Sym *syms = (const Elf64_Sym *)(img + symtab->sh_offset);
        size_t nsyms = symtab->sh_size / sizeof(Elf64_Sym);
        for (size_t i = 0; i < rs->sh_size / sizeof(*r); i++) {
            size_t si = ELF64_R_SYM(r[i].r_info);
            if (si >= nsyms || syms[si].st_name >= strs->sh_size ||
                strcmp((const char *)img + strs->sh_offset + syms[si].st_name, "init_module") ||
                syms[si].st_shndx >= eh->e_shnum)
                continue;
            ki->init_off = r[i].r_offset;
            ki->init_value = syms[si].st_value;
            snprintf(ki->init_sec, sizeof(ki->init_sec), "%s",
                     sec_name(img, size, eh, sh, syms[si].st_shndx));
        }
    }
    return !ki->init_off || ki->init_off + 16 <= ki->this_size;
}

static bool read_ko(const char *path, struct ko_info *ki)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    struct stat st;
    bool ok = false;
    if (!fstat(fd, &st) && st.st_size > 0) {
        void *img = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
        if (img != MAP_FAILED) {
            ok = parse_ko(img, (size_t)st.st_size, ki);
            munmap(img, (size_t)st.st_size);
        }
    }
    close(fd);
    return ok;
}

/* DIR/NAME.ko, or with '_' as '-' (kvm_intel is kvm-intel.ko) */
static bool find_ko(const struct modsyms *ms, const char *name, char *path, size_t len)
{
    snprintf(path, len, "%s/%s.ko", ms->dir, name);
    if (!access(path, R_OK))
        return true;
    snprintf(path, len, "%s/", ms->dir);
    size_t at = strlen(path);
    for (const char *p = name; *p && at + 4 < len; p++)
        path[at++] = *p == '_' ? '-' : *p;
    snprintf(path + at, len - at, ".ko");
    return !access(path, R_OK);
}

static bool same_module(const char *a, const char *b)
{
    for (; *a && *b; a++, b++)
        if (*a != *b && !((*a == '-' || *a == '_') && (*b == '-' || *b == '_')))
            return false;
    return *a == *b;
}

/* At do_init_module(mod): load mod's symbols. */
static bool module_loaded(struct debugger *d, uint64_t mod)
{
    struct modsyms *ms = d->mods;
    char name[MOD_NAME_LEN + 1] = "";
    if (dbg_read_lin(d, mod + MOD_NAME_OFF, name, MOD_NAME_LEN) != MOD_NAME_LEN)
        return false;
    name[MOD_NAME_LEN] = 0;
    char path[1024];
    struct ko_info ki = {0};
    if (!find_ko(ms, name, path, sizeof(path))) {
        dbg_printf(d, "module %s: no %s/%s.ko, no symbols\n", name, ms->dir, name);
        return false;
    }
    if (!read_ko(path, &ki) || strcmp(ki.name, name)) {
        dbg_printf(d, "module %s: %s is not that module's .ko\n", name, path);
        return false;
    }
    /* a module without an init function: struct module is laid out the
     * same in all of the kernel's modules */
    uint64_t init_off = ki.init_off ? ki.init_off : ms->init_off;
    if (!init_off || init_off + 16 > ki.this_size) {
        dbg_printf(d, "module %s: no .ko in %s with an init function to learn struct module "
                      "from\n", name, ms->dir);
        return false;
    }
    uint64_t words[128];
    size_t nwords = ki.this_size / 8 < 128 ? ki.this_size / 8 : 128;
    if (dbg_read_lin(d, mod, words, nwords * 8) != nwords * 8)
        return false;
    uint64_t init = words[init_off / 8], core = 0;
    for (size_t k = init_off / 8 + 1; k < nwords && !core; k++)
        core = words[k];
    if ((core & 0xfff) || !core) {
        dbg_printf(d, "module %s: no text base after `init` in its struct module\n", name);
        return false;
    }
    struct dbg_secaddr sec = {ki.init_sec, init - ki.init_value};
    char err[400];
    int n = sym_load(&d->syms, path, core, true, &sec, ki.init_off ? 1 : 0, err, sizeof(err));
    if (n < 0) {
        dbg_printf(d, "module %s: %s\n", name, err);
        return false;
    }
    ms->loaded++;
    if (ki.init_off)
        dbg_printf(d, "module %s: loaded %d symbols from %s (text 0x%" PRIx64 ", %s 0x%" PRIx64
                      ")\n", name, n, path, core, ki.init_sec, sec.addr);
    else
        dbg_printf(d, "module %s: loaded %d symbols from %s (text 0x%" PRIx64 ")\n", name, n, path,
                   core);
    for (int k = 0; k < d->nbps; k++) {
        struct bp *b = &d->bps[k];
        if (b->kind != BP_CATCH_MODULE || !b->enabled || (b->name && !same_module(b->name, name)))
            continue;
        b->hits++;
        dbg_request_stop(d, 5, "Catchpoint %d: module %s loaded (text 0x%" PRIx64 ")", b->id, name,
                         core);
        return true;
    }
    return false;
}

bool modsyms_before(struct debugger *d, uint64_t pc)
{
    if (pc != d->mods->hook)
        return false;
    return module_loaded(d, d->c->r[R_RDI]);
}

void modsyms_free(struct debugger *d)
{
    free(d->mods);
    d->mods = NULL;
}

/* symbols modules DIR | symbols modules off */
enum cmd_result modsyms_command(struct debugger *d, int argc, char **argv)
{
    if (argc < 3) {
        if (d->mods)
            dbg_printf(d, "module symbols from %s: %u modules loaded so far\n", d->mods->dir,
                       d->mods->loaded);
        else
            dbg_printf(d, "usage: symbols modules DIR|off\n");
        return CMD_STAY;
    }
    if (!strcmp(argv[2], "off")) {
        modsyms_free(d);
        return CMD_STAY;
    }
    uint64_t hook;
    if (!sym_lookup(&d->syms, "do_init_module", &hook)) {
        dbg_printf(d, "symbols modules: no do_init_module among the symbols: load the guest "
                      "kernel's first (symbols System.map)\n");
        return CMD_STAY;
    }
    struct stat st;
    if (stat(argv[2], &st) || !S_ISDIR(st.st_mode)) {
        dbg_printf(d, "symbols modules: %s is not a directory\n", argv[2]);
        return CMD_STAY;
    }
    if (!d->mods && !(d->mods = calloc(1, sizeof(*d->mods))))
        return CMD_STAY;
    d->mods->init_off = 0;
    DIR *dir = opendir(argv[2]);
    struct dirent *de;
    while (dir && !d->mods->init_off && (de = readdir(dir))) {
        size_t len = strlen(de->d_name);
        char path[1024];
        struct ko_info ki = {0};
        if (len < 4 || strcmp(de->d_name + len - 3, ".ko"))
            continue;
        snprintf(path, sizeof(path), "%s/%s", argv[2], de->d_name);
        if (read_ko(path, &ki))
            d->mods->init_off = ki.init_off;
    }
    if (dir)
        closedir(dir);
    snprintf(d->mods->dir, sizeof(d->mods->dir), "%s", argv[2]);
    d->mods->hook = hook;
    dbg_printf(d, "module symbols: from %s/NAME.ko as the guest loads NAME (at do_init_module "
                  "0x%" PRIx64 ")\n",
               d->mods->dir, hook);
    return CMD_STAY;
}
