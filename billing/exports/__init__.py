"""Everything that turns a closed month into files, one module per job.

`month`: rows and files of a closed month (CSV, XLSX, PDF), every statement's content hash verified first;
`downloads`: one customer's statement, or a month's CSV, streamed over HTTP (pages and API);
`jobs`: the background build of a month's workbook or PDF archive (the worker's side; staff start it through
`billing.services.exports`); `retention`: built files past their retention are removed.
"""
