"""Multi-fidelity views of nasgym's benchmarks: fidelities and simulated costs.

:mod:`nasgym.mf.fidelity` declares, per benchmark, the epoch budgets a query may ask
for, the metric at each budget, the simulated training cost of a query and whether
continuing a configuration from a lower budget is charged only the difference.
Nothing is imported here, so ``import nasgym`` stays light.
"""
