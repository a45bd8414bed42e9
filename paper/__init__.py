"""The paper's figures from recorded results (vibetensor-figures); see figures.py."""
