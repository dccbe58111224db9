"""`--engine dask`: the vectorized engine over partitions of a roster split by household, on dask.distributed."""
