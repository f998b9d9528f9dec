"""Queries and sampling on a fitted mbi graphical model, in NumPy, deterministically.

mbi's own ``synthetic_data`` orders each column's parents by iterating a Python ``set``
of attribute names, so its records change with ``PYTHONHASHSEED`` (measured: the same
seed and model gave different samples in two processes); its message passing is also
compiled by JAX once per model. Here everything runs in NumPy over mbi's junction tree
with a fixed schedule (cliques in mbi's deterministic order, neighbours sorted), and all
randomness comes from the caller's ``numpy.random.Generator``.

All three functions start from ``clique_beliefs``: HUGIN message passing in log space
gives every maximal clique's marginal ``b_C`` (normalised to 1).

Notes:
    Koller & Friedman (2009), "Probabilistic Graphical Models", section 10.3 (belief
    update message passing) and the clique-tree factorisation
    ``p(x) = prod_C b_C(x_C) / prod_S b_S(x_S)`` over cliques and separators, which also
    licenses ancestral sampling clique by clique from a root.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.special import logsumexp

Clique = tuple[str, ...]


def clique_beliefs(mbi: Any, model: Any) -> tuple[list[tuple[Clique, Clique | None]],
                                                  dict[Clique, np.ndarray]]:
    """Maximal-clique marginals of ``model`` and a root-first traversal of its tree.

    Returns:
        ``(order, beliefs)``: ``order`` lists ``(clique, parent)`` pairs, every component
        of the junction forest from its first clique outwards (``parent`` is ``None`` at a
        root); ``beliefs[C]`` is ``C``'s marginal as probabilities, axes in ``C``'s order.
    """
    tree, _ = mbi.junction_tree.make_junction_tree(model.domain, list(model.cliques))
    cliques = mbi.junction_tree.maximal_cliques(tree)
    order: list[tuple[Clique, Clique | None]] = []
    seen: set[Clique] = set()
    for root in cliques:
        if root in seen:
            continue
        seen.add(root)
        queue = [(root, None)]
        while queue:
            node, parent = queue.pop(0)
            order.append((node, parent))
            for nb in sorted(tree.neighbors(node)):
                if nb not in seen:
                    seen.add(nb)
                    queue.append((nb, node))
    log = {cl: np.zeros(model.domain.project(cl).shape) for cl in cliques}
    for cl, factor in model.potentials.tables.items():
        home = next(c for c in cliques if set(cl) <= set(c))
        log[home] = log[home] + _align(np.asarray(factor.values, np.float64), tuple(cl), home)
    edges = [(parent, node) for node, parent in order if parent is not None]
    schedule = [(c, p) for p, c in reversed(edges)] + edges  # collect, then distribute
    messages: dict[tuple[Clique, Clique], np.ndarray] = {}
    for i, j in schedule:
        tau = log[i]
        if (j, i) in messages:
            tau = tau - _align(messages[(j, i)], _sep(j, i), i)
        axes = tuple(k for k, a in enumerate(i) if a not in j)
        messages[(i, j)] = logsumexp(tau, axis=axes) if axes else tau
        log[j] = log[j] + _align(messages[(i, j)], _sep(i, j), j)
    return order, {cl: np.exp(v - logsumexp(v)) for cl, v in log.items()}


def model_marginals(mbi: Any, model: Any, queries: list[Clique]) -> dict[Clique, np.ndarray]:
    """Marginals of ``model`` on arbitrary cliques (flattened, summing to its total).

    Each query sums ``prod_C b_C / prod_S b_S`` onto its attributes (one einsum each).
    """
    # Deferred import: opt_einsum comes with mbi; only MST and AIM need it.
    import opt_einsum

    order, beliefs = clique_beliefs(mbi, model)
    index = {a: k for k, a in enumerate(model.domain.attributes)}
    operands: list[Any] = []
    for cl, parent in order:
        operands += [beliefs[cl], [index[a] for a in cl]]
        if parent is not None:
            drop = tuple(k for k, a in enumerate(cl) if a not in parent)
            sep = beliefs[cl].sum(axis=drop) if drop else beliefs[cl]
            inverse = np.divide(1.0, sep, out=np.zeros_like(sep), where=sep > 0)
            operands += [inverse, [index[a] for a in _sep(cl, parent)]]
    total = float(model.total)
    out = {}
    for q in queries:
        values = opt_einsum.contract(*operands, [index[a] for a in q], optimize="greedy")
        values = np.clip(np.asarray(values, dtype=np.float64).ravel(), 0.0, None)
        out[q] = values * (total / values.sum())
    return out


def sample_records(mbi: Any, model: Any, rows: int,
                   rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Draw ``rows`` records (codes per attribute) from ``model``, each distributed as the model.

    Ancestral sampling over the junction tree: a root clique's attributes are drawn
    jointly from its belief, and each further clique's new attributes from its belief
    conditioned on the separator already drawn (inverse CDF, one uniform per row,
    stratified among the rows that share a separator value).
    """
    order, beliefs = clique_beliefs(mbi, model)
    codes: dict[str, np.ndarray] = {}
    for cl, _ in order:
        given = tuple(a for a in cl if a in codes)
        new = tuple(a for a in cl if a not in codes)
        if not new:
            continue
        table = np.transpose(beliefs[cl], [cl.index(a) for a in given + new])
        g_shape, k_shape = table.shape[:len(given)], table.shape[len(given):]
        cond = table.reshape(int(np.prod(g_shape)), int(np.prod(k_shape)))
        mass = cond.sum(axis=1, keepdims=True)
        cond = np.divide(cond, mass, out=np.full_like(cond, 1 / cond.shape[1]), where=mass > 0)
        cdf = np.cumsum(cond, axis=1)
        cdf[:, -1] = 1.0
        g = (np.ravel_multi_index(tuple(codes[a] for a in given), g_shape) if given
             else np.zeros(rows, dtype=np.int64))
        # Row g's CDF shifted by g makes one increasing array: one searchsorted for all rows.
        shifted = (cdf + np.arange(cdf.shape[0])[:, None]).ravel()
        pos = np.searchsorted(shifted, g + _stratified_uniforms(g, rng), side="right")
        flat = np.clip(pos - g * cdf.shape[1], 0, cdf.shape[1] - 1)
        for a, col in zip(new, np.unravel_index(flat, k_shape), strict=True):
            codes[a] = col.astype(np.int64)
    return {a: codes[a] for a in model.domain.attributes}


def _stratified_uniforms(groups: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One uniform per row, stratified within each group: ``(rank + U(0, 1)) / size``.

    Ranks are a random permutation within the group, so each row's uniform is still
    U(0, 1), but a group of ``m`` rows puts exactly one draw in each ``1/m`` slice:
    the conditional counts match the model to within one per cell (the variance
    reduction of mbi's ``method="round"``).
    """
    perm = rng.permutation(len(groups))
    ordered = perm[np.argsort(groups[perm], kind="stable")]
    sizes = np.bincount(groups)
    starts = np.concatenate(([0], np.cumsum(sizes)[:-1]))
    ranks = np.empty(len(groups), dtype=np.int64)
    ranks[ordered] = np.arange(len(groups)) - starts[groups[ordered]]
    return (ranks + rng.random(len(groups))) / sizes[groups]


def _sep(a: Clique, b: Clique) -> Clique:
    """Attributes of ``a`` that are also in ``b``, in ``a``'s order."""
    return tuple(x for x in a if x in b)


def _align(values: np.ndarray, attrs: Clique, target: Clique) -> np.ndarray:
    """View a table over ``attrs`` (a subset of ``target``) broadcastable over ``target``."""
    ordered = [a for a in target if a in attrs]
    values = np.transpose(values, [attrs.index(a) for a in ordered])
    shape = [values.shape[ordered.index(a)] if a in attrs else 1 for a in target]
    return values.reshape(shape)
