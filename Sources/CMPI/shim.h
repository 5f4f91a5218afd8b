#ifndef CORTADO_CMPI_SHIM_H
#define CORTADO_CMPI_SHIM_H
// The MPI C API (Open MPI through pkg-config's ompi-c; MPICH's mpi.h declares the same functions).
// MPI's predefined handles are macros that Swift cannot import (Open MPI casts addresses of
// globals, MPICH uses integer constants), so small inline functions hand them to Swift.
#include <mpi.h>

static inline MPI_Comm cortado_mpi_comm_world(void) { return MPI_COMM_WORLD; }
static inline MPI_Comm cortado_mpi_comm_null(void) { return MPI_COMM_NULL; }
static inline MPI_Datatype cortado_mpi_float(void) { return MPI_FLOAT; }
static inline MPI_Datatype cortado_mpi_double(void) { return MPI_DOUBLE; }
static inline MPI_Datatype cortado_mpi_byte(void) { return MPI_BYTE; }
static inline MPI_Datatype cortado_mpi_int(void) { return MPI_INT; }
static inline MPI_Op cortado_mpi_sum(void) { return MPI_SUM; }
static inline MPI_Op cortado_mpi_max(void) { return MPI_MAX; }
static inline MPI_Info cortado_mpi_info_null(void) { return MPI_INFO_NULL; }
static inline MPI_Errhandler cortado_mpi_errors_return(void) { return MPI_ERRORS_RETURN; }
static inline void *cortado_mpi_in_place(void) { return MPI_IN_PLACE; }
static inline int cortado_mpi_comm_type_shared(void) { return MPI_COMM_TYPE_SHARED; }
static inline int cortado_mpi_thread_serialized(void) { return MPI_THREAD_SERIALIZED; }
static inline int cortado_mpi_max_error_string(void) { return MPI_MAX_ERROR_STRING; }
static inline int cortado_mpi_success(void) { return MPI_SUCCESS; }

#endif
