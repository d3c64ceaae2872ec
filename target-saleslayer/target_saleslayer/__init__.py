"""target-saleslayer: write records into Sales Layer (PIM) through an Import connector, in batches.

See :mod:`target_saleslayer.target`, :mod:`target_saleslayer.dialect` (records as import items),
:mod:`target_saleslayer.publisher` (import calls, their answers and their tracking) and
:mod:`target_saleslayer.forms` (PHP ``http_build_query`` form fields).
"""
