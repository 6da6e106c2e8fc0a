/* Open MPI for Swift. MPI's handles and special values (MPI_COMM_WORLD, MPI_FLOAT, MPI_SUM,
 * MPI_IN_PLACE, ...) are macros over the addresses of library globals, which the Swift importer
 * cannot see; these functions return them. */
#include <mpi.h>

static inline MPI_Comm recur_mpi_comm_world(void) { return MPI_COMM_WORLD; }
static inline MPI_Datatype recur_mpi_float(void) { return MPI_FLOAT; }
static inline MPI_Datatype recur_mpi_double(void) { return MPI_DOUBLE; }
static inline MPI_Op recur_mpi_sum(void) { return MPI_SUM; }
static inline void *recur_mpi_in_place(void) { return MPI_IN_PLACE; }
static inline MPI_Errhandler recur_mpi_errors_return(void) { return MPI_ERRORS_RETURN; }
