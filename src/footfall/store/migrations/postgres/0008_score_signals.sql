-- [T4] Why a visitor scores what it scores: the signals that raised its score most (JSON list of
-- {signal, effect, values}; docs/scoring.md). Scores stored before this release have none until
-- the scoring job scores their visitor again.
ALTER TABLE visitor_scores ADD COLUMN signals TEXT;
