"""Pure-Python services of the JobAdder connector: API constants, lenient parsing, mapping rules."""
