"""Lines of numbers: bags of ids (CSR without values), spooled bags, BLAS and heap control."""
