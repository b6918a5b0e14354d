# R reference values for tests/test_competing.py and tests/test_rates.py (survival + cmprsk).
#
# Run from the repository root:
#     Rscript tests/reference/competing_reference.R
# It writes the fixture mgus2.csv (survival::mgus2: progression to a plasma-cell
# malignancy with death as the competing event), reads it back, and, when it
# exists, data/derived/analysis.csv, and writes R's answers to
# tests/reference/r_out/ with 15 significant digits:
#   cuminc.csv      cumulative incidence and its variance (cmprsk::cuminc + timepoints)
#                   and the Aalen-Johansen estimate of survfit with a multi-state status
#   gray.csv        Gray's test (cmprsk::cuminc()$Tests)
#   km_times.csv    summary(survfit(...), times = ...) with log and log-log limits
#   competing_manifest.csv   md5 of every input

suppressPackageStartupMessages({library(survival); library(cmprsk)})
options(warn = 1)

source(file.path("tests", "reference", "r_helpers.R"))  # ref, out, write_out, bind

# ---------------------------------------------------------------- fixture
m <- survival::mgus2
etime <- with(m, ifelse(pstat == 1, ptime, futime))
status <- with(m, ifelse(pstat == 1, 1L, 2L * death))
mgus <- data.frame(time = etime, status = status, sex = as.character(m$sex),
                   age70 = as.integer(m$age >= 70))
write.csv(mgus, file.path(ref, "mgus2.csv"), row.names = FALSE)

inputs <- c(mgus2 = file.path(ref, "mgus2.csv"))
analysis_path <- file.path("data", "derived", "analysis.csv")
if (file.exists(analysis_path)) inputs <- c(inputs, analysis = analysis_path)
mgus <- read.csv(inputs[["mgus2"]], stringsAsFactors = FALSE)

# ---------------------------------------------------------------- cumulative incidence
# cuminc's estimate and variance at given times (timepoints), and the Aalen-Johansen
# estimate of survfit(Surv(time, factor(status)) ~ 1) at the same times.
cif_rows <- function(dataset, analysis, group, time, status, times) {
  ci <- cuminc(time, status, cencode = 0)
  tp <- timepoints(ci, times)
  causes <- sort(unique(status[status > 0]))
  aj <- survfit(Surv(time, factor(status, levels = c(0, causes))) ~ 1)
  s <- summary(aj, times = times[times <= max(time)], extend = FALSE)
  bind(lapply(seq_along(causes), function(k) {
    est <- tp$est[k, ]
    var <- tp$var[k, ]
    ajv <- rep(NA_real_, length(times))
    ajv[seq_len(nrow(s$pstate))] <- s$pstate[, k + 1]
    data.frame(dataset = dataset, analysis = analysis, group = group, cause = causes[k],
               time = times, cif = unname(est), var = unname(var), aj = ajv)
  }))
}
gray_row <- function(dataset, analysis, group, time, status, g) {
  ci <- cuminc(time, status, g, cencode = 0)
  tt <- ci$Tests
  data.frame(dataset = dataset, analysis = analysis, group = group, cause = as.integer(rownames(tt)),
             stat = tt[, "stat"], p = tt[, "pv"], df = tt[, "df"])
}

cif <- list(cif_rows("mgus2", "pcm", "all", mgus$time, mgus$status, c(60, 120, 240, 400)),
            cif_rows("mgus2", "pcm", "sex=F", mgus$time[mgus$sex == "F"],
                     mgus$status[mgus$sex == "F"], c(60, 120, 240)))
gray <- list(gray_row("mgus2", "pcm", "sex", mgus$time, mgus$status, mgus$sex),
             gray_row("mgus2", "pcm", "age70", mgus$time, mgus$status, mgus$age70))
# three groups, to exercise the k-sample variance
agegrp <- cut(m$age, c(0, 60, 75, Inf))
gray[[length(gray) + 1]] <- gray_row("mgus2", "pcm", "agegrp3", mgus$time, mgus$status, as.character(agegrp))
write.csv(data.frame(agegrp3 = as.character(agegrp)), file.path(ref, "mgus2_agegrp3.csv"), row.names = FALSE)
inputs <- c(inputs, mgus2_agegrp3 = file.path(ref, "mgus2_agegrp3.csv"))

# ---------------------------------------------------------------- fixed-time Kaplan-Meier
km_times_rows <- function(dataset, endpoint, group, time, status, times) {
  bind(lapply(c("log", "log-log"), function(ct) {
    s <- summary(survfit(Surv(time, status) ~ 1, conf.type = ct), times = times)
    data.frame(dataset = dataset, endpoint = endpoint, group = group, conf_type = ct,
               time = s$time, n_risk = s$n.risk, events_by = cumsum(s$n.event), surv = s$surv,
               std_err = s$std.err, lower = s$lower, upper = s$upper)
  }))
}
lung <- survival::lung
km_times <- list(km_times_rows("lung", "os", "all", lung$time, lung$status - 1, c(5, 180, 365, 730, 1000, 1100)))

# ---------------------------------------------------------------- the project's data
if (!is.na(inputs["analysis"])) {
  a <- read.csv(inputs[["analysis"]], stringsAsFactors = FALSE, na.strings = "",
                colClasses = c(dex_dose_group = "character"))
  died <- a$os_event == 1
  nt_status <- ifelse(a$ttnt_event == 1, 1L, ifelse(died & abs(a$os_months - a$ttnt_months) <= 1e-9, 2L, 0L))
  pr_status <- ifelse(a$pfs_event == 1, ifelse(died & abs(a$os_months - a$pfs_months) <= 1e-9, 2L, 1L), 0L)
  times <- c(12, 24, 36)
  for (an in c("next_treatment", "progression")) {
    tm <- if (an == "next_treatment") a$ttnt_months else a$pfs_months
    st <- if (an == "next_treatment") nt_status else pr_status
    cif[[length(cif) + 1]] <- cif_rows("analysis", an, "all", tm, st, times)
    for (v in c(0, 1)) {
      k <- !is.na(a$vgpr_or_better) & a$vgpr_or_better == v
      cif[[length(cif) + 1]] <- cif_rows("analysis", an, paste0("vgpr_or_better=", v), tm[k], st[k], times)
    }
    k <- !is.na(a$vgpr_or_better)
    gray[[length(gray) + 1]] <- gray_row("analysis", an, "vgpr_or_better", tm[k], st[k], a$vgpr_or_better[k])
  }
  for (ep in c("pfs", "os", "ttnt")) {
    tm <- a[[paste0(ep, "_months")]]
    ev <- a[[paste0(ep, "_event")]]
    km_times[[length(km_times) + 1]] <- km_times_rows("analysis", ep, "all", tm, ev, times)
    for (v in c(0, 1)) {
      k <- !is.na(a$vgpr_or_better) & a$vgpr_or_better == v
      km_times[[length(km_times) + 1]] <- km_times_rows("analysis", ep, paste0("vgpr_or_better=", v),
                                                        tm[k], ev[k], times)
    }
  }
}

write_out(bind(cif), "cuminc.csv")
write_out(bind(gray), "gray.csv")
write_out(bind(km_times), "km_times.csv")
write_out(data.frame(input = names(inputs), path = unname(inputs), md5 = unname(tools::md5sum(inputs)),
                     r_version = paste(R.version$major, R.version$minor, sep = "."),
                     cmprsk_version = as.character(packageVersion("cmprsk"))),
          "competing_manifest.csv")
