#ifndef RECUR_CHDF5_SHIM_H
#define RECUR_CHDF5_SHIM_H
// HDF5's C API through Debian's libhdf5-dev (pkg-config name `hdf5`, headers in /usr/include/hdf5/serial).
// Identifiers such as H5P_DEFAULT or H5T_NATIVE_FLOAT are macros (some call H5open()), which Swift
// cannot import, so they are exposed as functions.
#include <hdf5.h>

static inline hid_t recur_h5p_default(void) { return H5P_DEFAULT; }
static inline hid_t recur_h5s_all(void) { return H5S_ALL; }
static inline hid_t recur_h5e_default(void) { return H5E_DEFAULT; }
static inline unsigned recur_h5f_acc_rdonly(void) { return H5F_ACC_RDONLY; }
static inline unsigned recur_h5f_acc_trunc(void) { return H5F_ACC_TRUNC; }
static inline hid_t recur_h5t_native_float(void) { return H5T_NATIVE_FLOAT; }
static inline hid_t recur_h5t_ieee_f32le(void) { return H5T_IEEE_F32LE; }
static inline hid_t recur_h5t_c_s1(void) { return H5T_C_S1; }
static inline size_t recur_h5t_variable(void) { return H5T_VARIABLE; }

/// Turns off HDF5's printing of its error stack to stderr (errors still return negative values).
static inline herr_t recur_h5_silence_errors(void) {
    if (H5open() < 0) return -1;
    return H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
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
#endif
