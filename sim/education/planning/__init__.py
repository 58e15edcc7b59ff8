"""Plans for new schools (规划新建学校) and catchments (学区), checked by simulation."""
