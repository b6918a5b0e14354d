# Reference p-values of R's fisher.test for r x 2 tables, small and medium, for
# tests/test_response.py (compendium.chapters.response.fisher_exact_rx2). Run from the repository root:
#   Rscript tests/reference/fisher_reference.R
# Writes tests/reference/r_out/fisher_rx2.csv: the table as "a b; c d; ..." rows and R's p.
tables <- list(
  matrix(c(2, 5, 30, 3, 2, 9, 1, 2, 17, 2, 1, 7), ncol = 2),
  matrix(c(2, 3, 2, 1, 1, 3), ncol = 2),
  matrix(c(0, 7, 3, 9, 4, 1, 0, 6), ncol = 2),
  matrix(c(40, 61, 12, 150, 35, 70, 20, 130), ncol = 2),
  matrix(c(120, 300, 45, 610, 20, 140, 280, 60, 590, 35), ncol = 2),
  matrix(c(400, 900, 150, 1000, 860, 200), ncol = 2),
  matrix(c(15, 30, 22, 5, 60, 10, 41, 20, 18, 55), ncol = 2)
)
rows <- lapply(tables, function(x) {
  p <- fisher.test(x, workspace = 2e8)$p.value
  data.frame(table = paste(apply(x, 1, paste, collapse = " "), collapse = "; "),
             p = sprintf("%.17g", p))
})
dir.create("tests/reference/r_out", showWarnings = FALSE)
write.csv(do.call(rbind, rows), "tests/reference/r_out/fisher_rx2.csv", row.names = FALSE, quote = TRUE)
