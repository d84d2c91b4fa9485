"""livestream: add, get, list, update, delete (docs/kaltura-compatibility.md §4)."""
