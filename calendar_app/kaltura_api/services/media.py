"""media: add, get, list, update, delete, addContent (docs/kaltura-compatibility.md §4)."""
