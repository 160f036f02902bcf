"""`--fix` and `--undo`: remedies the doctor is sure of, each shown first, atomic, undoable.

model      Change / NeedsYou / Plan / Remedy / FixContext: plain data
edit       one value in a config file's text, proved by the format's parser
shellrc    the shell start-up file and the block cborg-doctor writes in it
guard      which files may be touched (home, WSL's Windows profile), read for an edit
journal    atomic writes, backups, the journal `--undo` reads
remedies   the remedies, linked from the `Code`s they fix
apply      show, ask (y/n/a/q), write, judge outcomes
session    from a report to its fixes: offer, re-run the affected checks, report
"""
