# Shared by the R reference scripts: where they write, and how (15 significant digits).
ref <- file.path("tests", "reference")
out <- file.path(ref, "r_out")
dir.create(out, showWarnings = FALSE)

num <- function(x) ifelse(is.na(x), NA, sprintf("%.15g", x))
write_out <- function(df, name) {
  for (j in seq_along(df)) if (is.double(df[[j]])) df[[j]] <- num(df[[j]])
  write.csv(df, file.path(out, name), row.names = FALSE, na = "")
}
bind <- function(rows) do.call(rbind, rows)
