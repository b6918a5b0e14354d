# R reference values for tests/test_r_parity.py (base R + survival only).
#
# Run from the repository root:
#     Rscript tests/reference/survival_reference.R
# It writes the fixtures lung.csv and heart.csv (from the survival package), reads
# them back together with the hand-made fixtures (km_cases.csv, ties.csv,
# separation.csv) and, when it exists, data/derived/analysis.csv, and writes R's
# answers to tests/reference/r_out/*.csv with 15 significant digits.
# r_out/manifest.csv records the md5 of every input, so the Python test can
# tell whether these answers still belong to the data it compares them with.

suppressPackageStartupMessages(library(survival))
options(warn = 1)  # print warnings (e.g. infinite coefficients) where they occur

source(file.path("tests", "reference", "r_helpers.R"))  # ref, out, write_out, bind

# ---------------------------------------------------------------- fixtures
lung_out <- with(survival::lung, data.frame(
  time = time, status = status - 1, sex = sex, female = as.integer(sex == 2),
  age = age, ph_ecog = ph.ecog,
  ecog_cat = ifelse(is.na(ph.ecog), NA, ifelse(ph.ecog >= 2, "2+", as.character(ph.ecog))),
  wt_loss = wt.loss))
write.csv(lung_out, file.path(ref, "lung.csv"), row.names = FALSE, na = "")
heart_out <- with(survival::heart, data.frame(
  id = id, start = start, stop = stop, event = event, age = age, year = year,
  surgery = surgery, transplant = as.integer(as.character(transplant))))
write.csv(heart_out, file.path(ref, "heart.csv"), row.names = FALSE, na = "")

read <- function(path) read.csv(path, stringsAsFactors = FALSE, na.strings = "",
                                 colClasses = c(dex_dose_group = "character", ecog_cat = "character",
                                                grp = "character"))
inputs <- c(lung = file.path(ref, "lung.csv"), heart = file.path(ref, "heart.csv"),
            km_cases = file.path(ref, "km_cases.csv"), ties = file.path(ref, "ties.csv"),
            separation = file.path(ref, "separation.csv"))
analysis_path <- file.path("data", "derived", "analysis.csv")
if (file.exists(analysis_path)) inputs <- c(inputs, analysis = analysis_path)
data <- suppressWarnings(lapply(inputs, read))

# ---------------------------------------------------------------- Kaplan-Meier
# One row per (conf_type, rule): rule "quantile" is quantile(fit, 0.5),
# rule "print" is summary(fit)$table (what print(fit) and survminer show).
km_rows <- function(dataset, endpoint, group, time, status) {
  bind(lapply(c("log", "log-log", "plain"), function(ct) {
    fit <- survfit(Surv(time, status) ~ 1, conf.type = ct)
    q <- quantile(fit, 0.5)
    tab <- summary(fit)$table
    data.frame(dataset = dataset, endpoint = endpoint, group = group, conf_type = ct,
               rule = c("quantile", "print"), n = fit$n, events = sum(fit$n.event),
               median = c(unname(q$quantile), tab[["median"]]),
               lcl = c(unname(q$lower), tab[["0.95LCL"]]),
               ucl = c(unname(q$upper), tab[["0.95UCL"]]))
  }))
}
km_endpoint <- function(dataset, d, endpoint, tcol, ecol, groups = character(0), reverse = FALSE) {
  st <- if (reverse) 1 - d[[ecol]] else d[[ecol]]
  rows <- list(km_rows(dataset, endpoint, "all", d[[tcol]], st))
  for (g in groups) for (v in sort(unique(na.omit(d[[g]])))) {
    keep <- !is.na(d[[g]]) & d[[g]] == v
    rows[[length(rows) + 1]] <- km_rows(dataset, endpoint, paste0(g, "=", v), d[[tcol]][keep], st[keep])
  }
  bind(rows)
}

km <- list(
  km_endpoint("lung", data$lung, "os", "time", "status", c("female", "ecog_cat")),
  km_endpoint("lung", data$lung, "followup", "time", "status", "female", reverse = TRUE))
for (cs in unique(data$km_cases$case)) {
  d <- data$km_cases[data$km_cases$case == cs, ]
  km[[length(km) + 1]] <- km_endpoint("km_cases", d, cs, "time", "event")
}

# the whole lung curve, to compare estimates, Greenwood SE and bands
curve <- bind(lapply(c("log", "log-log", "plain"), function(ct) {
  fit <- survfit(Surv(time, status) ~ 1, data = data$lung, conf.type = ct)
  data.frame(conf_type = ct, time = fit$time, n_risk = fit$n.risk, n_event = fit$n.event,
             n_censor = fit$n.censor, surv = fit$surv, std_err = fit$std.err,
             lower = fit$lower, upper = fit$upper)
}))

# ---------------------------------------------------------------- log-rank
lr_row <- function(dataset, endpoint, group, d, tcol, ecol) {
  f <- as.formula(paste0("Surv(", tcol, ", ", ecol, ") ~ ", group))
  s <- survdiff(f, data = d)
  data.frame(dataset = dataset, endpoint = endpoint, group = group, n = sum(s$n),
             chisq = s$chisq, df = length(s$n) - 1, p = s$pvalue)
}
logrank <- list(lr_row("lung", "os", "female", data$lung, "time", "status"),
                lr_row("lung", "os", "ecog_cat", data$lung, "time", "status"))

# ---------------------------------------------------------------- Cox
# Rows are labelled (covariate, level, reference) the way compendium.stats.survival does:
# 0/1 flags -> level "1" vs "0"; text columns -> one row per non-reference level;
# other numbers -> "per unit" vs "".
cox_rows <- function(dataset, endpoint, model, d, surv, covs, refs = list(),
                     ties = "efron", zph = ties == "efron", resid = zph && length(covs) > 1) {
  for (cv in covs) if (is.character(d[[cv]])) {
    lev <- sort(unique(na.omit(d[[cv]])))
    ref <- if (is.null(refs[[cv]])) lev[1] else refs[[cv]]
    d[[cv]] <- relevel(factor(d[[cv]], levels = lev), ref = ref)
  }
  f <- as.formula(paste(surv, "~", paste(covs, collapse = " + ")))
  fit <- coxph(f, data = d, ties = ties)
  s <- summary(fit)
  cf <- s$coefficients
  ci <- s$conf.int
  lab <- bind(lapply(covs, function(cv) {
    x <- d[[cv]]
    if (is.factor(x)) {
      lv <- levels(droplevels(x[!is.na(x)]))
      data.frame(covariate = cv, level = lv[-1], reference = lv[1], term = paste0(cv, lv[-1]))
    } else if (all(na.omit(x) %in% c(0, 1))) {
      data.frame(covariate = cv, level = "1", reference = "0", term = cv)
    } else data.frame(covariate = cv, level = "per unit", reference = "", term = cv)
  }))
  list(
    cox = data.frame(dataset = dataset, endpoint = endpoint, model = model, ties = ties, lab,
                     coef = unname(cf[lab$term, "coef"]), se = unname(cf[lab$term, "se(coef)"]),
                     hr = unname(ci[lab$term, "exp(coef)"]), lcl = unname(ci[lab$term, "lower .95"]),
                     ucl = unname(ci[lab$term, "upper .95"]), p = unname(cf[lab$term, "Pr(>|z|)"]),
                     n = fit$n, events = fit$nevent, loglik_null = fit$loglik[1],
                     loglik = fit$loglik[2], lr_chisq = unname(s$logtest["test"]),
                     wald_chisq = fit$wald.test, score_chisq = unname(s$sctest["test"]),
                     iter = fit$iter),
    zph = if (zph) bind(lapply(c("km", "rank", "identity", "log"), function(tr) {
      z <- cox.zph(fit, transform = tr)
      data.frame(dataset = dataset, endpoint = endpoint, model = model, transform = tr,
                 covariate = rownames(z$table), chisq = z$table[, "chisq"],
                 df = z$table[, "df"], p = z$table[, "p"])
    })),
    resid = if (resid) {  # scaled Schoenfeld residuals of the multivariable models
      z <- cox.zph(fit, terms = FALSE)
      bind(lapply(seq_len(ncol(z$y)), function(j) data.frame(
        dataset = dataset, endpoint = endpoint, model = model, row = seq_along(z$time),
        time = z$time, gtime = z$x, coefficient = colnames(z$y)[j], value = z$y[, j])))
    })
}

models <- list(
  cox_rows("lung", "os", "female", data$lung, "Surv(time, status)", "female"),
  cox_rows("lung", "os", "age", data$lung, "Surv(time, status)", "age"),
  cox_rows("lung", "os", "sex", data$lung, "Surv(time, status)", "sex"),
  cox_rows("lung", "os", "ecog_cat", data$lung, "Surv(time, status)", "ecog_cat"),
  cox_rows("lung", "os", "ecog_cat_ref1", data$lung, "Surv(time, status)", "ecog_cat",
           list(ecog_cat = "1")),
  cox_rows("lung", "os", "wt_loss", data$lung, "Surv(time, status)", "wt_loss"),
  cox_rows("lung", "os", "mv_sex_age_ecog", data$lung, "Surv(time, status)",
           c("female", "age", "ecog_cat")),
  cox_rows("lung", "os", "mv_sex_age_ecog", data$lung, "Surv(time, status)",
           c("female", "age", "ecog_cat"), ties = "breslow"),
  cox_rows("lung", "os", "mv_sex_age_wtloss", data$lung, "Surv(time, status)",
           c("female", "age", "wt_loss")),
  cox_rows("ties", "ties", "mv_x_z_grp", data$ties, "Surv(time, event)", c("x", "z", "grp")),
  cox_rows("ties", "ties", "mv_x_z_grp", data$ties, "Surv(time, event)", c("x", "z", "grp"),
           ties = "breslow"),
  cox_rows("ties", "ties", "x", data$ties, "Surv(time, event)", "x"),
  cox_rows("ties", "ties", "x", data$ties, "Surv(time, event)", "x", ties = "breslow"),
  cox_rows("separation", "separation", "x", data$separation, "Surv(time, event)", "x"),
  cox_rows("separation", "separation", "mv_x_z", data$separation, "Surv(time, event)", c("x", "z")))

# counting-process data: transplant as a time-dependent covariate (Stanford heart)
heart_fit <- coxph(Surv(start, stop, event) ~ transplant + age + surgery, data = data$heart)
hs <- summary(heart_fit)
heart_cox <- data.frame(dataset = "heart", endpoint = "heart", model = "tv_transplant_age_surgery",
                        ties = "efron", covariate = c("transplant", "age", "surgery"),
                        level = c("1", "per unit", "1"), reference = c("0", "", "0"),
                        term = c("transplant", "age", "surgery"),
                        coef = unname(hs$coefficients[, "coef"]), se = unname(hs$coefficients[, "se(coef)"]),
                        hr = unname(hs$conf.int[, "exp(coef)"]), lcl = unname(hs$conf.int[, "lower .95"]),
                        ucl = unname(hs$conf.int[, "upper .95"]), p = unname(hs$coefficients[, "Pr(>|z|)"]),
                        n = heart_fit$n, events = heart_fit$nevent, loglik_null = heart_fit$loglik[1],
                        loglik = heart_fit$loglik[2], lr_chisq = unname(hs$logtest["test"]),
                        wald_chisq = heart_fit$wald.test, score_chisq = unname(hs$sctest["test"]),
                        iter = heart_fit$iter)

heart_zph <- bind(lapply(c("km", "rank", "identity", "log"), function(tr) {
  z <- cox.zph(heart_fit, transform = tr)
  data.frame(dataset = "heart", endpoint = "heart", model = "tv_transplant_age_surgery", transform = tr,
             covariate = rownames(z$table), chisq = z$table[, "chisq"], df = z$table[, "df"], p = z$table[, "p"])
}))
heart_z <- cox.zph(heart_fit, terms = FALSE)
heart_resid <- bind(lapply(seq_len(ncol(heart_z$y)), function(j) data.frame(
  dataset = "heart", endpoint = "heart", model = "tv_transplant_age_surgery", row = seq_along(heart_z$time),
  time = heart_z$time, gtime = heart_z$x, coefficient = colnames(heart_z$y)[j], value = heart_z$y[, j])))

# ---------------------------------------------------------------- the project's data
if (!is.null(data$analysis)) {
  a <- data$analysis
  for (ep in c("pfs", "os", "ttnt", "pfs2"))
    km[[length(km) + 1]] <- km_endpoint("analysis", a, ep, paste0(ep, "_months"),
                                        paste0(ep, "_event"), "vgpr_or_better")
  km[[length(km) + 1]] <- km_endpoint("analysis", a, "followup", "os_months", "os_event",
                                      reverse = TRUE)
  covariates <- c("vgpr_or_better", "cr_or_better", "age_ge65", "dex_dose_group", "emd_relapse",
                  "cyto_high_risk_dx", "cyto_high_risk_relapse", "del17p_relapse",
                  "pc_ge60_relapse", "amp1q", "len_exposure_months", "len_dose_start_mg",
                  "len_dose_pd_mg")
  for (ep in c("pfs", "os")) {
    surv <- paste0("Surv(", ep, "_months, ", ep, "_event)")
    logrank[[length(logrank) + 1]] <- lr_row("analysis", ep, "vgpr_or_better", a,
                                             paste0(ep, "_months"), paste0(ep, "_event"))
    for (cv in covariates) {
      ok <- !is.na(a[[cv]]) & !is.na(a[[paste0(ep, "_months")]])
      if (length(unique(a[[cv]][ok])) < 2) next  # nothing to estimate
      models[[length(models) + 1]] <- cox_rows("analysis", ep, cv, a, surv, cv,
                                               list(dex_dose_group = "full"))
    }
    models[[length(models) + 1]] <- cox_rows("analysis", ep, "vgpr_emd_age", a, surv,
                                             c("vgpr_or_better", "emd_relapse", "age_ge65"))
  }
  if ("response_months" %in% names(a)) {
    # response >= VGPR by a 3-month landmark, among those event-free beyond it; a patient whose
    # response is not evaluable is left out, as in the time-zero models
    a <- a[!is.na(a$vgpr_or_better), ]
    resp <- ifelse(a$vgpr_or_better == 1, a$response_months, NA)
    lm <- a[a$pfs_months > 3, ]
    lm$responded_by_landmark <- as.integer(!is.na(resp[a$pfs_months > 3]) & resp[a$pfs_months > 3] <= 3)
    lm$pfs_months <- lm$pfs_months - 3
    models[[length(models) + 1]] <- cox_rows("analysis_landmark3", "pfs", "responded_by_landmark", lm,
                                             "Surv(pfs_months, pfs_event)", "responded_by_landmark")
    # response >= VGPR as a time-dependent covariate: (0, response] unexposed, then exposed
    s <- !is.na(resp) & resp > 0 & resp < a$pfs_months
    cp <- rbind(
      data.frame(tstart = 0, pfs_months = resp[s], pfs_event = 0L, responded = 0L),
      data.frame(tstart = resp[s], pfs_months = a$pfs_months[s], pfs_event = a$pfs_event[s], responded = 1L),
      data.frame(tstart = 0, pfs_months = a$pfs_months[!s], pfs_event = a$pfs_event[!s],
                 responded = as.integer(!is.na(resp[!s]) & resp[!s] <= 0)))
    models[[length(models) + 1]] <- cox_rows("analysis_tv", "pfs", "responded", cp,
                                             "Surv(tstart, pfs_months, pfs_event)", "responded")
  }
}

# ---------------------------------------------------------------- write
write_out(bind(km), "km_medians.csv")
write_out(curve, "km_curve_lung.csv")
write_out(bind(logrank), "logrank.csv")
write_out(rbind(bind(lapply(models, `[[`, "cox")), heart_cox), "cox.csv")
write_out(rbind(bind(lapply(models, `[[`, "zph")), heart_zph), "cox_zph.csv")
write_out(rbind(bind(lapply(models, `[[`, "resid")), heart_resid), "zph_resid.csv")
write_out(data.frame(input = names(inputs), path = unname(inputs),
                     md5 = unname(tools::md5sum(inputs)),
                     r_version = paste(R.version$major, R.version$minor, sep = "."),
                     survival_version = as.character(packageVersion("survival"))),
          "manifest.csv")
