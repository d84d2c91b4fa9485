"""uploadtoken: add, upload, get, list, delete (docs/kaltura-compatibility.md §4)."""
