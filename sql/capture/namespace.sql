-- Schema ibex on a source, made when it is missing (the repository may have made it already).
CREATE SCHEMA ibex;
