"""Evaluation and benchmark tools (python -m evals.bench, evals.evaluate, evals.*_eval): they measure the
engine from outside. They may import swapengine; the engine never imports them.
"""
