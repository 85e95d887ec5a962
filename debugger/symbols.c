/* debugger/symbols.c — symbol tables from ELF files (ELF32 and ELF64:
 * vmlinux, test kernels, kernel modules) and System.map / nm listings.
 * Kept sorted by address for address-to-name lookups. */
#include <ctype.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "debugger/dbg.h"

static int add(struct dbg_symtab *t, const char *name, uint64_t addr, uint64_t size)
{
    if (!*name || name[0] == '$')
        return 0;
    if (t->n == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 1024;
        struct dbg_sym *v = realloc(t->v, cap * sizeof(*v));
        if (!v)
            return -1;
        t->v = v;
        t->cap = cap;
    }
    char *copy = strdup(name);
    if (!copy)
        return -1;
    t->v[t->n++] = (struct dbg_sym){addr, size, copy};
    t->sorted = false;
    return 0;
}

/* One ELF class: the same walk over 32- or 64-bit structures. */
#define ELF_LOADER(NAME, Ehdr, Shdr, Sym, ST_TYPE)                                               \
    static int NAME(struct dbg_symtab *t, const uint8_t *img, size_t size, uint64_t base,       \
                    const struct dbg_secaddr *secs, size_t nsecs, char *err, size_t errlen)    \
    {                                                                                          \
        const Ehdr *eh = (const Ehdr *)img;                                                    \
        if (size < sizeof(*eh) || eh->e_shoff == 0 ||                                          \
            eh->e_shoff + (uint64_t)eh->e_shnum * sizeof(Shdr) > size) {                       \
            snprintf(err, errlen, "no section headers");                                      \
            return -1;                                                                         \
        }                                                                                      \
        const Shdr *sh = (const Shdr *)(img + eh->e_shoff);                                    \
        bool rel = eh->e_type == ET_REL;                                                       \
        /* a module's sections: those named in secs where they say, .text at base, the    \
         * others after it in file order */                                                  \
        uint64_t *sec_addr = calloc(eh->e_shnum ? eh->e_shnum : 1, sizeof(uint64_t));          \
        bool *placed = calloc(eh->e_shnum ? eh->e_shnum : 1, sizeof(bool));                    \
        if (!sec_addr || !placed) {                                                            \
            free(sec_addr);                                                                    \
            free(placed);                                                                      \
            return -1;                                                                         \
        }                                                                                      \
        const Shdr *names = eh->e_shstrndx < eh->e_shnum ? &sh[eh->e_shstrndx] : NULL;        \
        if (names && names->sh_offset + names->sh_size > size)                                 \
            names = NULL;                                                                      \
        if (nsecs && !rel) {                                                                   \
            snprintf(err, errlen, "section addresses are for relocatable files (.ko)");       \
            free(sec_addr);                                                                    \
            free(placed);                                                                      \
            return -1;                                                                         \
        }                                                                                      \
        for (size_t j = 0; j < nsecs; j++) {                                                   \
            bool hit = false;                                                                  \
            for (unsigned k = 0; names && k < eh->e_shnum; k++)                                \
                if (sh[k].sh_name < names->sh_size && (sh[k].sh_flags & SHF_ALLOC) &&          \
                    !strncmp((const char *)img + names->sh_offset + sh[k].sh_name,             \
                             secs[j].name, names->sh_size - sh[k].sh_name)) {                  \
                    sec_addr[k] = secs[j].addr;                                                \
                    placed[k] = hit = true;                                                    \
                }                                                                              \
            if (!hit) {                                                                        \
                snprintf(err, errlen, "no loaded section %s", secs[j].name);                 \
                free(sec_addr);                                                                \
                free(placed);                                                                  \
                return -1;                                                                     \
            }                                                                                  \
        }                                                                                      \
        if (rel) {                                                                             \
            uint64_t at = base;                                                                \
            for (int pass = 0; pass < 2; pass++)                                               \
                for (unsigned k = 0; k < eh->e_shnum; k++) {                                   \
                    if (!(sh[k].sh_flags & SHF_ALLOC) || placed[k])                            \
                        continue;                                                              \
                    bool exec = (sh[k].sh_flags & SHF_EXECINSTR) != 0;                         \
                    if (exec != (pass == 0))                                                   \
                        continue;                                                              \
                    uint64_t al = sh[k].sh_addralign ? sh[k].sh_addralign : 1;                 \
                    at = (at + al - 1) & ~(al - 1);                                            \
                    sec_addr[k] = at;                                                          \
                    at += sh[k].sh_size;                                                       \
                }                                                                              \
        }                                                                                      \
        int found = 0;                                                                         \
        for (unsigned k = 0; k < eh->e_shnum; k++) {                                           \
            if (sh[k].sh_type != SHT_SYMTAB)                                                   \
                continue;                                                                      \
            if (sh[k].sh_link >= eh->e_shnum || sh[k].sh_offset + sh[k].sh_size > size)        \
                continue;                                                                      \
            const Shdr *strs = &sh[sh[k].sh_link];                                             \
            if (strs->sh_offset + strs->sh_size > size)                                        \
                continue;                                                                      \
            const char *str = (const char *)img + strs->sh_offset;                             \
            const Sym *sym = (const Sym *)(img + sh[k].sh_offset);                             \
            size_t n = sh[k].sh_size / sizeof(Sym);                                            \
            for (size_t i = 0; i < n; i++) {                                                   \
                unsigned type = ST_TYPE(sym[i].st_info);                                       \
                if (sym[i].st_shndx == SHN_UNDEF || sym[i].st_name >= strs->sh_size)           \
                    continue;                                                                  \
                if (type != STT_FUNC && type != STT_OBJECT && type != STT_NOTYPE)              \
                    continue;                                                                  \
                uint64_t a = sym[i].st_value;                                                  \
                if (rel) {                                                                     \
                    if (sym[i].st_shndx >= eh->e_shnum || !sec_addr[sym[i].st_shndx])          \
                        continue;                                                              \
                    a += sec_addr[sym[i].st_shndx];                                            \
                } else if (sym[i].st_shndx != SHN_ABS) {                                       \
                    a += base;                                                                 \
                }                                                                              \
                if (add(t, str + sym[i].st_name, a, sym[i].st_size)) {                         \
                    free(sec_addr);                                                            \
                    free(placed);                                                              \
                    return -1;                                                                 \
                }                                                                              \
                found++;                                                                       \
            }                                                                                  \
        }                                                                                      \
        free(sec_addr);                                                                        \
        free(placed);                                                                          \
        if (!found) {                                                                          \
            snprintf(err, errlen, "no symbol table (stripped?)");                             \
            return -1;                                                                         \
        }                                                                                      \
        return found;                                                                          \
    }

ELF_LOADER(load_elf32, Elf32_Ehdr, Elf32_Shdr, Elf32_Sym, ELF32_ST_TYPE)
ELF_LOADER(load_elf64, Elf64_Ehdr, Elf64_Shdr, Elf64_Sym, ELF64_ST_TYPE)

/* "ffffffff81000000 T _stext" lines (System.map, nm output) */
static int load_map(struct dbg_symtab *t, const uint8_t *img, size_t size, uint64_t base,
                    char *err, size_t errlen)
{
    int found = 0;
    size_t pos = 0;
    while (pos < size) {
        size_t end = pos;
        while (end < size && img[end] != '\n')
            end++;
        char line[512];
        size_t len = end - pos < sizeof(line) - 1 ? end - pos : sizeof(line) - 1;
        memcpy(line, img + pos, len);
        line[len] = 0;
        pos = end + 1;
        char *p = line, *q;
        uint64_t a = strtoull(p, &q, 16);
        if (q == p || !isspace((unsigned char)*q))
            continue;
        while (isspace((unsigned char)*q))
            q++;
        char type = *q;
        if (!type || !isspace((unsigned char)q[1]))
            continue;
        if (type == 'U' || type == 'u' || type == 'w' || type == 'a' || type == 'A')
            continue;
        q += 2;
        while (isspace((unsigned char)*q))
            q++;
        char *nameend = q;
        while (*nameend && !isspace((unsigned char)*nameend))
            nameend++;
        *nameend = 0; /* drops a module suffix like "\t[ext4]" */
        /* a binary that is no ELF (a bzImage given to -kernel) can hold
         * bytes that look like such a line: names are printable */
        bool printable = *q != 0;
        for (const char *c = q; *c; c++)
            printable &= *c > ' ' && *c < 0x7f;
        if (!printable)
            continue;
        if (add(t, q, a + base, 0))
            return -1;
        found++;
    }
    if (!found) {
        snprintf(err, errlen, "not an ELF file and no System.map lines in it");
        return -1;
    }
    return found;
}

bool sym_is_elf(const char *path)
{
    unsigned char magic[SELFMAG];
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    bool elf = read(fd, magic, sizeof(magic)) == (ssize_t)sizeof(magic) &&
               !memcmp(magic, ELFMAG, SELFMAG);
    close(fd);
    return elf;
}

int sym_load(struct dbg_symtab *t, const char *path, uint64_t base, bool have_base,
             const struct dbg_secaddr *secs, size_t nsecs, char *err, size_t errlen)
{
    (void)have_base;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    struct stat st;
    if (fstat(fd, &st) || st.st_size == 0) {
        snprintf(err, errlen, "%s: empty or unreadable", path);
        close(fd);
        return -1;
    }
    size_t size = (size_t)st.st_size;
    const uint8_t *img = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (img == MAP_FAILED) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    int r;
    char why[128];
    if (size >= EI_NIDENT && !memcmp(img, ELFMAG, SELFMAG)) {
        if (img[EI_CLASS] == ELFCLASS64)
            r = load_elf64(t, img, size, base, secs, nsecs, why, sizeof(why));
        else if (img[EI_CLASS] == ELFCLASS32)
            r = load_elf32(t, img, size, base, secs, nsecs, why, sizeof(why));
        else {
            snprintf(why, sizeof(why), "unknown ELF class");
            r = -1;
        }
    } else if (nsecs) {
        snprintf(why, sizeof(why), "section addresses need an ELF file");
        r = -1;
    } else {
        r = load_map(t, img, size, base, why, sizeof(why));
    }
    munmap((void *)img, size);
    if (r < 0)
        snprintf(err, errlen, "%s: %s", path, why);
    return r;
}

static int by_addr(const void *a, const void *b)
{
    const struct dbg_sym *x = a, *y = b;
    if (x->addr != y->addr)
        return x->addr < y->addr ? -1 : 1;
    /* at one address prefer a sized (function) symbol, then global-looking names */
    if ((x->size != 0) != (y->size != 0))
        return x->size ? -1 : 1;
    /* a module's init_module/cleanup_module are aliases module_init() and
     * module_exit() make for the real function: name that one */
    bool xa = !strcmp(x->name, "init_module") || !strcmp(x->name, "cleanup_module");
    bool ya = !strcmp(y->name, "init_module") || !strcmp(y->name, "cleanup_module");
    if (xa != ya)
        return xa ? 1 : -1;
    return strcmp(x->name, y->name);
}

static void sort(struct dbg_symtab *t)
{
    if (!t->sorted) {
        qsort(t->v, t->n, sizeof(t->v[0]), by_addr);
        t->sorted = true;
    }
}

bool sym_lookup(struct dbg_symtab *t, const char *name, uint64_t *addr)
{
    for (size_t k = 0; k < t->n; k++)
        if (!strcmp(t->v[k].name, name)) {
            *addr = t->v[k].addr;
            return true;
        }
    return false;
}

/* The symbol containing addr: inside its size, or (unsized) the nearest
 * one below within 64 KiB. */
const struct dbg_sym *sym_find(struct dbg_symtab *t, uint64_t addr, uint64_t *off)
{
    if (!t->n)
        return NULL;
    sort(t);
    size_t lo = 0, hi = t->n;
    while (hi - lo > 1) {
        size_t mid = (lo + hi) / 2;
        if (t->v[mid].addr <= addr)
            lo = mid;
        else
            hi = mid;
    }
    /* the first of equal addresses is the preferred name */
    while (lo > 0 && t->v[lo - 1].addr == t->v[lo].addr)
        lo--;
    const struct dbg_sym *s = &t->v[lo];
    if (s->addr > addr)
        return NULL;
    uint64_t o = addr - s->addr;
    if (s->size ? o >= s->size : o >= 0x10000)
        return NULL;
    *off = o;
    return s;
}

void sym_free(struct dbg_symtab *t)
{
    for (size_t k = 0; k < t->n; k++)
        free(t->v[k].name);
    free(t->v);
    memset(t, 0, sizeof(*t));
}
