from consensuslab.cli import entry

entry()
