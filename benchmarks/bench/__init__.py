"""The benchmarks behind ``benchmarks/run.py``: one module per scenario family.

* :mod:`bench.goals`: the goals, and the gigabyte they are read in;
* :mod:`bench.machine`: what the run ran on;
* :mod:`bench.processes`: timed commands, the memory of a process tree, a worker process;
* :mod:`bench.workspace`: temporary project copies over a snapshot of the package source;
* :mod:`bench.build_log`: what a build's log says of its jobs;
* :mod:`bench.builds`: naive, clean, no-op and one-edit builds of the default data;
* :mod:`bench.scaling`: clean and one-edit builds of 25 to 200 networks, fit and plot;
* :mod:`bench.coding`, :mod:`bench.outcomes`: the statistics at scale, each in its own process;
* :mod:`bench.breakdown`: where a notebook's time goes;
* :mod:`bench.report`: the table, its Markdown and ``results.json``.

A package rather than flat modules: ``python benchmarks/run.py`` puts ``benchmarks/`` first on
``sys.path``, where a module named like a library's (``statistics``) would shadow it.
"""
