"""Formulas: safe parsing of student text into SymPy, and equivalence with a reference.

Student text never reaches ``eval``, ``exec``, ``sympify`` or ``parse_expr``:
it is tokenised and parsed here, and SymPy objects are built directly from the
parse. SymPy is imported only when a formula is read or compared.
"""
