"""External managers: mandates, statements, fees, performance, look-through, oversight."""
