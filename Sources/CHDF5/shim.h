#ifndef RECUR_CHDF5_SHIM_H
#define RECUR_CHDF5_SHIM_H
// HDF5's C API through Debian's libhdf5-dev (pkg-config name `hdf5`, headers in /usr/include/hdf5/serial).
// Identifiers such as H5P_DEFAULT or H5T_NATIVE_FLOAT are macros (some call H5open()), which Swift
// cannot import, so they are exposed as functions.
#include <hdf5.h>
#include <string.h>

static inline hid_t recur_h5p_default(void) { return H5P_DEFAULT; }
static inline hid_t recur_h5s_all(void) { return H5S_ALL; }
static inline hid_t recur_h5e_default(void) { return H5E_DEFAULT; }
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
#endif
