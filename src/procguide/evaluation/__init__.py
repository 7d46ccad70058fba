"""Evaluation: question sets in the format of evals/README.md, run through the Assistant and scored."""
