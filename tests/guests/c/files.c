/* files: the filesystem inside one preopened directory.
 *
 *   files DIR
 *
 * DIR is the guest path of a preopen, empty and writable. Every step
 * prints one line, "STEP: RESULT", where a failed call prints the errno
 * name; nothing printed depends on the host (times are set, not read from
 * the clock; listings are sorted). Exercises path_open (create, exclusive,
 * truncate, append, directory), fd_write/fd_pwrite/fd_read/fd_pread,
 * fd_seek, fd_filestat_get/path_filestat_get, fd_filestat_set_size,
 * fd_filestat_set_times/path_filestat_set_times, fd_readdir,
 * path_rename, path_link, path_symlink/path_readlink, path_unlink_file,
 * path_create_directory/path_remove_directory, and the rights of a
 * directory opened read-only. At the end DIR holds "final.txt" and the
 * empty directory "kept", which the test checks on the host. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "errname.h"

static const char *dir;

/* DIR/NAME, in one of a few rotating buffers. */
static const char *at(const char *name) {
    static char bufs[4][512];
    static int next;
    char *b = bufs[next++ % 4];
    snprintf(b, sizeof bufs[0], "%s/%s", dir, name);
    return b;
}

/* Prints "STEP: ok" for r >= 0, else "STEP: ERRNO". Returns r. */
static int step(const char *what, int r) {
    if (r < 0)
        printf("%s: %s\n", what, errname(errno));
    else
        printf("%s: ok\n", what);
    return r;
}

static void size_of(const char *what, const char *path) {
    struct stat st;
    if (stat(path, &st) < 0)
        printf("%s: %s\n", what, errname(errno));
    else
        printf("%s: %lld\n", what, (long long)st.st_size);
}

static void show_content(const char *what, const char *path) {
    char buf[256];
    int fd = open(path, O_RDONLY);
    if (fd < 0) {
        printf("%s: %s\n", what, errname(errno));
        return;
    }
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n < 0) {
        printf("%s: %s\n", what, errname(errno));
        return;
    }
    printf("%s: \"", what);
    for (ssize_t i = 0; i < n; i++) {
        if (buf[i] == '\n')
            printf("\\n");
        else
            putchar(buf[i]);
    }
    printf("\"\n");
}

static int cmp(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Prints the entries of PATH, sorted, with "/" after directories and "@"
 * after symlinks; "." and ".." are left out. */
static void list(const char *what, const char *path) {
    DIR *d = opendir(path);
    if (!d) {
        printf("%s: %s\n", what, errname(errno));
        return;
    }
    char *names[64];
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) && n < 64) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        size_t len = strlen(e->d_name);
        char *s = malloc(len + 2);
        memcpy(s, e->d_name, len);
        s[len] = e->d_type == DT_DIR ? '/' : e->d_type == DT_LNK ? '@' : 0;
        s[len + 1] = 0;
        names[n++] = s;
    }
    closedir(d);
    qsort(names, n, sizeof names[0], cmp);
    printf("%s:", what);
    for (int i = 0; i < n; i++) {
        printf(" %s", names[i]);
        free(names[i]);
    }
    printf("\n");
}

static void times_of(const char *what, const struct stat *st) {
    printf("%s: atime %lld.%09ld mtime %lld.%09ld\n", what,
           (long long)st->st_atim.tv_sec, st->st_atim.tv_nsec,
           (long long)st->st_mtim.tv_sec, st->st_mtim.tv_nsec);
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: files DIR\n");
        return 2;
    }
    dir = argv[1];
    struct stat st;

    /* Create, write, positional write, read back. */
    int fd = step("create a.txt", open(at("a.txt"), O_CREAT | O_EXCL | O_WRONLY, 0644));
    printf("write: %zd\n", write(fd, "hello world\n", 12));
    printf("pwrite at 6: %zd\n", pwrite(fd, "WORLD", 5, 6));
    printf("offset after pwrite: %lld\n", (long long)lseek(fd, 0, SEEK_CUR));
    step("close", close(fd));
    step("create a.txt again (O_EXCL)", open(at("a.txt"), O_CREAT | O_EXCL | O_WRONLY, 0644));
    show_content("content", at("a.txt"));

    /* Append: O_APPEND writes at the end whatever the offset. */
    fd = step("open O_APPEND", open(at("a.txt"), O_WRONLY | O_APPEND));
    lseek(fd, 0, SEEK_SET);
    printf("append: %zd\n", write(fd, "more\n", 5));
    fstat(fd, &st);
    printf("fstat size: %lld\n", (long long)st.st_size);
    step("close", close(fd));
    show_content("content", at("a.txt"));

    /* pread and a read past the end. */
    fd = step("open O_RDWR", open(at("a.txt"), O_RDWR));
    char buf[16] = {0};
    printf("pread 5 at 6: %zd \"%.5s\"\n", pread(fd, buf, 5, 6), buf);
    printf("pread at 100: %zd\n", pread(fd, buf, 5, 100));
    printf("write to a read-only fd: ");
    int ro = open(at("a.txt"), O_RDONLY);
    if (write(ro, "x", 1) < 0)
        printf("%s\n", errname(errno));
    else
        printf("ok (unexpected)\n");
    close(ro);

    /* Truncate, sizes by fd and by path. */
    step("ftruncate 5", ftruncate(fd, 5));
    fstat(fd, &st);
    printf("fstat size: %lld\n", (long long)st.st_size);
    size_of("stat size", at("a.txt"));
    step("ftruncate 4096 (extend)", ftruncate(fd, 4096));
    size_of("stat size", at("a.txt"));
    step("ftruncate 5", ftruncate(fd, 5));

    /* Set times through the fd and through the path; read them back. */
    struct timespec ts[2] = {{1000000000, 500000000}, {1234567890, 123456789}};
    step("futimens", futimens(fd, ts));
    fstat(fd, &st);
    times_of("fstat", &st);
    struct timespec ts2[2] = {{1500000000, 0}, {1600000000, 999999999}};
    step("utimensat", utimensat(AT_FDCWD, at("a.txt"), ts2, 0));
    stat(at("a.txt"), &st);
    times_of("stat", &st);
    struct timespec ts3[2] = {{0, UTIME_OMIT}, {1700000000, 1}};
    step("utimensat atime UTIME_OMIT", utimensat(AT_FDCWD, at("a.txt"), ts3, 0));
    stat(at("a.txt"), &st);
    times_of("stat", &st);
    step("close", close(fd));

    /* Directories and listing. */
    step("mkdir sub", mkdir(at("sub"), 0755));
    step("mkdir sub again", mkdir(at("sub"), 0755));
    close(step("create sub/b", open(at("sub/b"), O_CREAT | O_WRONLY, 0644)));
    close(step("create sub/c", open(at("sub/c"), O_CREAT | O_WRONLY, 0644)));
    step("rmdir sub (not empty)", rmdir(at("sub")));
    step("unlink sub (a directory)", unlink(at("sub")));
    step("rmdir a.txt (a file)", rmdir(at("a.txt")));
    step("open a.txt/x (not a directory)", open(at("a.txt/x"), O_RDONLY));
    step("open missing", open(at("missing"), O_RDONLY));
    list("list sub", at("sub"));

    /* Rename, hard link, symlink. */
    step("rename a.txt renamed.txt", rename(at("a.txt"), at("renamed.txt")));
    size_of("stat a.txt", at("a.txt"));
    size_of("stat renamed.txt", at("renamed.txt"));
    step("rename onto a non-empty directory", rename(at("renamed.txt"), at("sub")));
    step("link renamed.txt hard.txt", link(at("renamed.txt"), at("hard.txt")));
    stat(at("hard.txt"), &st);
    printf("nlink: %lld\n", (long long)st.st_nlink);
    step("symlink renamed.txt sym", symlink("renamed.txt", at("sym")));
    char target[64] = {0};
    ssize_t tl = readlink(at("sym"), target, sizeof target - 1);
    if (tl < 0)
        printf("readlink sym: %s\n", errname(errno));
    else
        printf("readlink sym: \"%.*s\"\n", (int)tl, target);
    step("readlink renamed.txt (not a link)", (int)readlink(at("renamed.txt"), target, sizeof target));
    lstat(at("sym"), &st);
    printf("lstat sym is a symlink: %s\n", S_ISLNK(st.st_mode) ? "yes" : "no");
    size_of("stat through sym", at("sym"));
    show_content("read through sym", at("sym"));
    step("symlink dangling", symlink("nowhere", at("dangling")));
    step("open dangling", open(at("dangling"), O_RDONLY));
    list("list", dir);

    /* Remove. */
    step("unlink hard.txt", unlink(at("hard.txt")));
    stat(at("renamed.txt"), &st);
    printf("nlink: %lld\n", (long long)st.st_nlink);
    step("unlink sym", unlink(at("sym")));
    step("unlink dangling", unlink(at("dangling")));
    size_of("stat renamed.txt after unlinking sym", at("renamed.txt"));
    step("unlink sub/b", unlink(at("sub/b")));
    step("unlink sub/c", unlink(at("sub/c")));
    step("rmdir sub", rmdir(at("sub")));
    step("rmdir sub again", rmdir(at("sub")));
    step("unlink missing", unlink(at("missing")));

    /* A directory opened O_RDONLY: its fd cannot be written to, but it
     * still lets the guest create inside it (wasi-libc asks for every
     * inheriting right; wasmtime allows it). wasmtime 48's `--dir` has no
     * read-only preopens, so there is no read-only directory to test. */
    step("mkdir kept", mkdir(at("kept"), 0755));
    int dfd = step("open kept O_RDONLY|O_DIRECTORY", open(at("kept"), O_RDONLY | O_DIRECTORY));
    step("openat(kept) O_CREAT", openat(dfd, "new", O_CREAT | O_WRONLY, 0644));
    step("mkdirat(kept)", mkdirat(dfd, "newdir", 0755));
    step("write to the directory fd", (int)write(dfd, "x", 1));
    close(dfd);
    list("list kept", at("kept"));

    step("rename renamed.txt final.txt", rename(at("renamed.txt"), at("final.txt")));
    list("list", dir);
    return 0;
}
