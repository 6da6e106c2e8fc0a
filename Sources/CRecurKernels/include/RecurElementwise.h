#ifndef RECUR_ELEMENTWISE_H
#define RECUR_ELEMENTWISE_H
/*
 * A chain of elementwise operations run as one pass: the compiled cell loop's groups (Recur's
 * StepProgramRunner). Rows are processed in blocks of about RECUR_ELEMENTWISE_BLOCK scalars; each
 * block runs every operation of the chain while its rows are in the first-level cache, so a chain of
 * k operations reads and writes memory once per value, not k times, and costs one call per step.
 */

/* Scalars per block of rows (at least one row). */
#define RECUR_ELEMENTWISE_BLOCK 2048

/* How an operation reads or writes one operand: at step t, row r starts at
   base + t*step_stride + (r mod period)*row_stride, its columns column_stride apart (1, or 0 for one
   broadcast column). A period at least the rows run never wraps. */
typedef struct {
    float *base;
    long step_stride;
    long row_stride;
    long period;
    long column_stride;
} recur_operand;

/* Operation codes. */
enum {
    RECUR_EW_TANH, RECUR_EW_SIGMOID, RECUR_EW_RELU, RECUR_EW_EXP, RECUR_EW_LOG, RECUR_EW_SQRT,
    RECUR_EW_ABS, RECUR_EW_SIGN,
    RECUR_EW_SCALE,                       /* y = alpha*a */
    RECUR_EW_ADD, RECUR_EW_SUB, RECUR_EW_MUL, RECUR_EW_DIV, RECUR_EW_MAX, RECUR_EW_MIN,
    RECUR_EW_GREATER, RECUR_EW_GREATER_EQUAL, RECUR_EW_LESS, RECUR_EW_EQUAL, RECUR_EW_NOT_EQUAL
};

/* Flags of an operation. */
enum {
    RECUR_EW_DENSE = 1,        /* every operand has dense rows or is one broadcast scalar: a block is one vector */
    RECUR_EW_SKIP_FORWARD = 2, /* computed elsewhere (an in-place sum): nothing to run forward */
    RECUR_EW_HAS_DA = 4,       /* the backward pass writes da */
    RECUR_EW_HAS_DB = 8,       /* ... and db */
    RECUR_EW_ASSIGN_A = 16,    /* da is stored, not added to (only with column stride 1) */
    RECUR_EW_ASSIGN_B = 32
};

/* One operation: y = op(a) or op(a, b) (unary operations ignore b); dy, da and db are the gradients
   of y, a and b (read only by the backward pass). Where an operand broadcasts a column, its gradient
   sums the row into its one scalar. */
typedef struct {
    int op;
    int flags;
    float alpha;
    recur_operand y, a, b, dy, da, db;
} recur_elementwise_op;

/* Runs ops[0..<count] forward on rows first..<end of step t, each `columns` wide. */
void recur_elementwise_forward(const recur_elementwise_op *ops, long count, long first, long end, long columns, long t);

/* The chain's vector-Jacobian products on rows first..<end of step t: blocks from the last, each
   block's operations from the last, adding into (or storing) da and db. `scratch` holds
   3*max(columns, RECUR_ELEMENTWISE_BLOCK) floats. Comparisons and sign have no gradient. */
void recur_elementwise_backward(const recur_elementwise_op *ops, long count, long first, long end, long columns, long t,
                                float *scratch);

#endif
