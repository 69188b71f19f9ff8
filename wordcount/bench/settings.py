"""What a benchmark run measures with: its sizes (full or smoke)."""


class Settings:
    def __init__(self, smoke: bool):
        self.smoke = smoke
        self.min_pages, self.min_bytes = (8, 0) if smoke else (200, 20_000_000)
        self.rounds = 1 if smoke else 5
        self.original_rounds = 1 if smoke else 3
        self.original_pages = 3 if smoke else None  # None: the whole corpus
        # Five short runs rather than three long ones: now and then a whole
        # run costs half again as much CPU per request (the two cores are
        # shared with wrk and PostgreSQL), and the median outvotes two such.
        self.wrk_seconds = 1 if smoke else 3
        self.wrk_runs = 1 if smoke else 5
        self.connections = [8] if smoke else [8, 32]
        self.worker_classes = ["gthread"] if smoke else ["gthread", "sync"]
        self.history_rows = (1_000, 5_000) if smoke else (1_000, 1_000_000)
        self.hyperfine_runs = 2 if smoke else 10
        self.layer_requests = 50 if smoke else 2000
