"""The schedule published as files for devices that sync by file (FTP, SFTP, S3, a directory):
files.py builds and writes them, tasks.py runs it after changes and on the beat. A seam like
sync/: it reads the API's object tables to write the API's shape, and no door calls it but
admin and its command (docs/devices.md)."""
