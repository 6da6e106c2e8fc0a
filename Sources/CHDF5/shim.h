#ifndef RECUR_CHDF5_SHIM_H
#define RECUR_CHDF5_SHIM_H
// HDF5's C API through Debian's libhdf5-dev (pkg-config name `hdf5`, headers in /usr/include/hdf5/serial).
// Identifiers such as H5P_DEFAULT or H5T_NATIVE_FLOAT are macros (some call H5open()), which Swift
// cannot import, so they are exposed as functions.
#include <hdf5.h>
#include <string.h>
#include <signal.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
#include <sys/wait.h>

static inline hid_t recur_h5p_default(void) { return H5P_DEFAULT; }
static inline hid_t recur_h5s_all(void) { return H5S_ALL; }
static inline unsigned recur_h5f_acc_rdonly(void) { return H5F_ACC_RDONLY; }
static inline unsigned recur_h5f_acc_trunc(void) { return H5F_ACC_TRUNC; }
static inline hid_t recur_h5t_native_float(void) { return H5T_NATIVE_FLOAT; }
static inline hid_t recur_h5t_ieee_f32le(void) { return H5T_IEEE_F32LE; }
static inline hid_t recur_h5t_c_s1(void) { return H5T_C_S1; }
static inline size_t recur_h5t_variable(void) { return H5T_VARIABLE; }

/// Turns off HDF5's printing of its error stack to stderr (errors still return negative values) and
/// its loading of filter plugins (a file naming an unknown filter must never make the library load
/// code from HDF5_PLUGIN_PATH).
static inline herr_t recur_h5_prepare_library(void) {
    if (H5open() < 0) return -1;
    if (H5PLset_loading_state(0) < 0) return -1;
    return H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
}

/// Opens an HDF5 file image held in memory (`len` bytes at `data`, copied by the library) read-only,
/// through the core driver: no file name is ever opened. Returns a file id or a negative value.
static inline hid_t recur_h5_open_image(const void *data, size_t len) {
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    if (fapl < 0) return -1;
    hid_t file = -1;
    if (H5Pset_fapl_core(fapl, 1 << 16, 0) >= 0 && H5Pset_file_image(fapl, (void *)data, len) >= 0) {
        file = H5Fopen("recur-in-memory.h5", H5F_ACC_RDONLY, fapl);
    }
    H5Pclose(fapl);
    return file;
}

/// Creates an empty HDF5 file in memory (core driver, nothing written to disk); its bytes come from
/// H5Fget_file_image once written.
static inline hid_t recur_h5_create_in_memory(void) {
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    if (fapl < 0) return -1;
    hid_t file = -1;
    if (H5Pset_fapl_core(fapl, 1 << 16, 0) >= 0) {
        file = H5Fcreate("recur-in-memory.h5", H5F_ACC_TRUNC, H5P_DEFAULT, fapl);
    }
    H5Pclose(fapl);
    return file;
}

/// The kind of the link `name` in the group `loc` (one path component): 0 hard, 1 soft, 2 external,
/// 3 another kind, -1 missing or unreadable. Only hard links stay inside the file.
static inline int recur_h5_link_kind(hid_t loc, const char *name) {
    if (H5Lexists(loc, name, H5P_DEFAULT) <= 0) return -1;
#if H5_VERSION_GE(1, 12, 0)
    H5L_info2_t info;
    if (H5Lget_info2(loc, name, &info, H5P_DEFAULT) < 0) return -1;
#else
    H5L_info_t info;
    if (H5Lget_info(loc, name, &info, H5P_DEFAULT) < 0) return -1;
#endif
    switch (info.type) {
    case H5L_TYPE_HARD: return 0;
    case H5L_TYPE_SOFT: return 1;
    case H5L_TYPE_EXTERNAL: return 2;
    default: return 3;
    }
}

/// The address of the object at `name` (which must be reached by hard links), for detecting cycles
/// in the group graph; returns 0 on success.
static inline int recur_h5_object_address(hid_t loc, const char *name, uint64_t *address) {
#if H5_VERSION_GE(1, 12, 0)
    H5O_info2_t info;
    if (H5Oget_info_by_name3(loc, name, &info, H5O_INFO_BASIC, H5P_DEFAULT) < 0) return -1;
    uint64_t a = 0;
    memcpy(&a, &info.token, sizeof a < sizeof info.token ? sizeof a : sizeof info.token);
    *address = a;
#else
    H5O_info_t info;
    if (H5Oget_info_by_name2(loc, name, &info, H5O_INFO_BASIC, H5P_DEFAULT) < 0) return -1;
    *address = (uint64_t)info.addr;
#endif
    return 0;
}

/// Why the dataset `dset` must not be read, or 0 when it may be: 1 it is a virtual dataset (its data
/// lives in other files), 2 it has external storage (raw data in other files), 3 a filter other than
/// deflate, shuffle or Fletcher-32 (Keras writes none), 4 its creation properties cannot be read.
/// `filter` receives the id of a refused filter.
static inline int recur_h5_dataset_refusal(hid_t dset, int *filter) {
    hid_t dcpl = H5Dget_create_plist(dset);
    if (dcpl < 0) return 4;
    int reason = 0;
    H5D_layout_t layout = H5Pget_layout(dcpl);
    if (layout == H5D_VIRTUAL) reason = 1;
    else if (layout < 0) reason = 4;
    else if (H5Pget_external_count(dcpl) != 0) reason = 2;
    else {
        int n = H5Pget_nfilters(dcpl);
        if (n < 0) reason = 4;
        for (int i = 0; i < n && reason == 0; i++) {
            unsigned flags = 0, config = 0;
            size_t nvalues = 0;
            char name[1];
            H5Z_filter_t id = H5Pget_filter2(dcpl, (unsigned)i, &flags, &nvalues, NULL, 0, name, &config);
            if (id != H5Z_FILTER_DEFLATE && id != H5Z_FILTER_SHUFFLE && id != H5Z_FILTER_FLETCHER32) {
                *filter = (int)id;
                reason = 3;
            }
        }
    }
    H5Pclose(dcpl);
    return reason;
}

/// Whether the object at `name` (relative to `loc`) is a group (1), a dataset (2), neither (0), or
/// cannot be opened (-1).
static inline int recur_h5_object_kind(hid_t loc, const char *name) {
    hid_t obj = H5Oopen(loc, name, H5P_DEFAULT);
    if (obj < 0) return -1;
    H5I_type_t t = H5Iget_type(obj);
    H5Oclose(obj);
    return t == H5I_GROUP ? 1 : (t == H5I_DATASET ? 2 : 0);
}
/// The storage layout of dataset `dset`: 0 compact, 1 contiguous, 2 chunked, 3 virtual, -1 unknown.
static inline int recur_h5_dataset_layout(hid_t dset) {
    hid_t dcpl = H5Dget_create_plist(dset);
    if (dcpl < 0) return -1;
    H5D_layout_t layout = H5Pget_layout(dcpl);
    H5Pclose(dcpl);
    switch (layout) {
    case H5D_COMPACT: return 0;
    case H5D_CONTIGUOUS: return 1;
    case H5D_CHUNKED: return 2;
    case H5D_VIRTUAL: return 3;
    default: return -1;
    }
}

/// Where a contiguous dataset's raw data starts in the file and how many bytes it has; returns 0 when
/// the data is stored (an address and a size are known).
static inline int recur_h5_contiguous_storage(hid_t dset, uint64_t *offset, uint64_t *size) {
    haddr_t address = H5Dget_offset(dset);
    if (address == HADDR_UNDEF) return -1;
    *offset = (uint64_t)address;
    *size = (uint64_t)H5Dget_storage_size(dset);
    return 0;
}

/// 1 for a big-endian type, 0 little-endian; 1 when an integer type is signed.
static inline int recur_h5_type_is_big_endian(hid_t type) { return H5Tget_order(type) == H5T_ORDER_BE; }
static inline int recur_h5_type_is_signed(hid_t type) { return H5Tget_class(type) == H5T_INTEGER && H5Tget_sign(type) == H5T_SGN_2; }

/// Whether `type` is a numeric type libhdf5 converts to float32 the way NumPy would read it: an
/// integer of 1, 2, 4 or 8 whole bytes, or an IEEE binary16, binary32 or binary64 float (either byte
/// order). Crafted float descriptions (a zero exponent size, overlapping fields, odd precisions) are
/// not, so they are refused instead of read as garbage.
static inline int recur_h5_type_is_standard_numeric(hid_t type) {
    size_t size = H5Tget_size(type);
    H5T_class_t cls = H5Tget_class(type);
    if (size != 1 && size != 2 && size != 4 && size != 8) return 0;
    if (H5Tget_offset(type) != 0 || H5Tget_precision(type) != 8 * size) return 0;
    if (cls == H5T_INTEGER) return 1;
    if (cls != H5T_FLOAT) return 0;
    size_t spos, epos, esize, mpos, msize;
    if (H5Tget_fields(type, &spos, &epos, &esize, &mpos, &msize) < 0) return 0;
    size_t ebias = H5Tget_ebias(type);
    if (H5Tget_norm(type) != H5T_NORM_IMPLIED) return 0;
    if (size == 2) return spos == 15 && epos == 10 && esize == 5 && mpos == 0 && msize == 10 && ebias == 15;
    if (size == 4) return spos == 31 && epos == 23 && esize == 8 && mpos == 0 && msize == 23 && ebias == 127;
    if (size == 8) return spos == 63 && epos == 52 && esize == 11 && mpos == 0 && msize == 52 && ebias == 1023;
    return 0;
}
/// One object of the probe walk (see recur_h5_probe_image): every call Recur later makes on it.
static inline herr_t recur_h5_probe_object(hid_t root, const char *name, const H5O_info_t *info, void *data) {
    (void)info; (void)data;
    uint64_t address;
    (void)recur_h5_object_address(root, name, &address);
    int kind = recur_h5_object_kind(root, name);
    if (kind == 1) {
        H5G_info_t group;
        if (H5Gget_info_by_name(root, name, &group, H5P_DEFAULT) >= 0 && group.nlinks < 1000000) {
            for (hsize_t i = 0; i < group.nlinks; i++) {
                ssize_t size = H5Lget_name_by_idx(root, name, H5_INDEX_NAME, H5_ITER_INC, i, NULL, 0, H5P_DEFAULT);
                if (size < 0 || size >= 65536) continue;
                char *member = (char *)malloc((size_t)size + 1);
                if (!member) continue;
                (void)H5Lget_name_by_idx(root, name, H5_INDEX_NAME, H5_ITER_INC, i, member, (size_t)size + 1, H5P_DEFAULT);
                free(member);
            }
        }
    } else if (kind == 2) {
        hid_t ds = H5Dopen2(root, name, H5P_DEFAULT);
        if (ds >= 0) {
            int filter = 0;
            int refusal = recur_h5_dataset_refusal(ds, &filter);
            hid_t type = H5Dget_type(ds), space = H5Dget_space(ds);
            int standard = type >= 0 && recur_h5_type_is_standard_numeric(type);
            int rank = space >= 0 ? H5Sget_simple_extent_ndims(space) : -1;
            hsize_t dims[32];
            hsize_t count = 1;
            if (rank >= 0 && rank <= 8 && H5Sget_simple_extent_dims(space, dims, NULL) == rank) {
                for (int k = 0; k < rank; k++) count = (dims[k] != 0 && count > (1ull << 28) / dims[k]) ? (1ull << 30) : count * dims[k];
            } else {
                count = 1ull << 30;
            }
            uint64_t offset, stored;
            (void)recur_h5_contiguous_storage(ds, &offset, &stored);
            if (refusal == 0 && standard && recur_h5_dataset_layout(ds) == 2 && count > 0 && count <= (1ull << 26)) {
                float *scratch = (float *)malloc(count * sizeof(float));
                if (scratch) { (void)H5Dread(ds, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, scratch); free(scratch); }
            }
            if (space >= 0) H5Sclose(space);
            if (type >= 0) H5Tclose(type);
            H5Dclose(ds);
        }
    }
    return 0;
}

/// One link of the probe walk: its kind and existence, as Recur asks for them along paths.
static inline herr_t recur_h5_probe_link(hid_t group, const char *name, const H5L_info_t *info, void *data) {
    (void)info; (void)data;
    (void)recur_h5_link_kind(group, name);
    return 0;
}

/// Runs, in a child process, every libhdf5 call Recur makes on a file from anyone — open it from
/// memory, walk its links and objects, read its chunked datasets — before the parent makes them.
/// libhdf5 1.10 crashes on some corrupt files (a NULL memcpy when a size read from the file makes an
/// allocation fail was found by fuzzing); the child takes that crash, and the parent refuses the file
/// instead of dying. Returns 0 when the child finished, 1 when it died or failed, 2 when it ran past
/// `timeout_ms` (it is killed), 3 when no child could be started (the caller reads unprotected).
/// The child uses only libhdf5 and libc and leaves with _exit.
static inline int recur_h5_probe_image(const void *data, size_t len, int timeout_ms) {
    pid_t pid = fork();
    if (pid < 0) return 3;
    if (pid == 0) {
        // Die quietly: the parent reports the crash (the Swift runtime's backtracer is inherited).
        int fatal[] = {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT, SIGTRAP};
        for (unsigned k = 0; k < sizeof fatal / sizeof fatal[0]; k++) signal(fatal[k], SIG_DFL);
        hid_t file = recur_h5_open_image(data, len);
        if (file >= 0) {
#if H5_VERSION_GE(1, 12, 0)
            (void)H5Lvisit2(file, H5_INDEX_NAME, H5_ITER_INC, (H5L_iterate2_t)recur_h5_probe_link, NULL);
            (void)H5Ovisit3(file, H5_INDEX_NAME, H5_ITER_INC, (H5O_iterate2_t)recur_h5_probe_object, NULL, H5O_INFO_BASIC);
#else
            (void)H5Lvisit(file, H5_INDEX_NAME, H5_ITER_INC, recur_h5_probe_link, NULL);
            (void)H5Ovisit2(file, H5_INDEX_NAME, H5_ITER_INC, recur_h5_probe_object, NULL, H5O_INFO_BASIC);
#endif
            H5Fclose(file);
        }
        _exit(0);
    }
    struct timespec pause = {0, 2000000};
    for (int waited = 0; ; waited += 2) {
        int status = 0;
        pid_t done = waitpid(pid, &status, WNOHANG);
        // Only a child that walked everything leaves with 0 (a sanitizer's report exits with 1).
        if (done == pid) return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 1;
        if (done < 0) return 0;
        if (waited >= timeout_ms) {
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
            return 2;
        }
        nanosleep(&pause, NULL);
    }
}
#endif
