"""A run's state, below every other package: the Optuna storage of its studies and trials
(``runstate.storage``) and durable file writes (``runstate.files``). Tasks, the runner and the
results all read and write through it; it imports none of them."""
