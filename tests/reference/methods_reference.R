# R reference values for the referee's methods (tests/test_firth.py, tests/test_multiplicity.py,
# tests/test_zph_smooth.py, tests/test_rates.py). Base R + survival + splines only.
#
# Run from the repository root:
#     Rscript tests/reference/methods_reference.R
# Reads tests/reference/separation.csv and lung.csv (written by survival_reference.R) and,
# when it exists, data/derived/analysis.csv; writes to tests/reference/r_out/:
#   firth.csv        Firth-penalised Cox (Breslow ties) by direct maximisation of
#                    l(beta) + 0.5 log det I(beta) with optim(), the log-likelihood and
#                    information taken from coxph(init = beta, iter.max = 0); profile
#                    penalised-likelihood limits (uniroot) and p. coxphf is not on Debian:
#                    this is an independent route to the same estimator.
#   factor_lr.csv    anova(coxph) likelihood-ratio test of a whole factor (dexamethasone)
#   holm.csv         p.adjust(p, "holm")
#   zph_smooth.csv   the curve and band plot.cox.zph draws (natural spline, df = 4)
#   methods_manifest.csv   md5 of every input

suppressPackageStartupMessages({library(survival); library(splines)})
options(warn = 1)

source(file.path("tests", "reference", "r_helpers.R"))  # ref, out, write_out, bind

inputs <- c(separation = file.path(ref, "separation.csv"), lung = file.path(ref, "lung.csv"))
analysis_path <- file.path("data", "derived", "analysis.csv")
if (file.exists(analysis_path)) inputs <- c(inputs, analysis = analysis_path)
read <- function(path) read.csv(path, stringsAsFactors = FALSE, na.strings = "",
                                 colClasses = c(dex_dose_group = "character", ecog_cat = "character"))
data <- suppressWarnings(lapply(inputs, read))

# ---------------------------------------------------------------- Firth
penalised <- function(b, f, d) {
  tryCatch({  # far out on the profile exp() overflows or the information is singular
    fit <- coxph(f, data = d, init = b, ties = "breslow", control = coxph.control(iter.max = 0))
    fit$loglik[2] + 0.5 * as.numeric(determinant(solve(fit$var))$modulus)
  }, error = function(e) -1e10)
}
maximise <- function(f, d, p, fixed = NULL) {
  free <- setdiff(seq_len(p), fixed$j)
  full <- function(bf) { b <- numeric(p); b[free] <- bf; if (!is.null(fixed)) b[fixed$j] <- fixed$b; b }
  if (length(free) == 0) return(list(par = full(numeric(0)), value = penalised(full(numeric(0)), f, d)))
  o <- optim(numeric(length(free)), function(bf) -penalised(full(bf), f, d), method = "BFGS",
             control = list(reltol = 1e-15, maxit = 500))
  o <- optim(o$par, function(bf) -penalised(full(bf), f, d), method = "BFGS",
             control = list(reltol = 1e-15, maxit = 500))
  list(par = full(o$par), value = -o$value)
}
firth_rows <- function(dataset, endpoint, model, d, surv, covs) {
  d <- d[complete.cases(d[, c(all.vars(as.formula(paste(surv, "~ 1"))), covs)]), ]
  f <- as.formula(paste(surv, "~", paste(covs, collapse = " + ")))
  p <- length(covs)
  best <- maximise(f, d, p)
  crit <- qchisq(0.95, 1)
  dev <- function(j, b) 2 * (best$value - maximise(f, d, p, list(j = j, b = b))$value)
  bind(lapply(seq_len(p), function(j) {
    bj <- best$par[j]
    lim <- sapply(c(-1, 1), function(s) {
      far <- bj + s
      while (dev(j, far) < crit) far <- bj + 2 * (far - bj)
      uniroot(function(b) dev(j, b) - crit, sort(c(bj, far)), tol = 1e-9)$root
    })
    data.frame(dataset = dataset, endpoint = endpoint, model = model, covariate = covs[j],
               coef = bj, lcl = exp(lim[1]), ucl = exp(lim[2]), p = pchisq(dev(j, 0), 1, lower.tail = FALSE),
               penalised_loglik = best$value)
  }))
}
firth <- list(firth_rows("separation", "separation", "x_z", data$separation, "Surv(time, event)", c("x", "z")),
              firth_rows("lung", "os", "female_age", data$lung, "Surv(time, status)", c("female", "age")))

# ---------------------------------------------------------------- Holm
fixed_p <- c(0.001, 0.01, 0.02, 0.04, 0.04, 0.3, 0.0001, 0.9, 0.049)
holm <- list(data.frame(dataset = "fixed", endpoint = "", covariate = paste0("p", seq_along(fixed_p)),
                        p = fixed_p, holm = p.adjust(fixed_p, "holm")))

# ---------------------------------------------------------------- plot.cox.zph's smooth
# The lines plot.cox.zph draws (survival 3.x): natural spline with df = 4 and intercept on the
# transformed time scale, knots from the 40 prediction points and the data together, band
# +- 2 sqrt(var[i, i] * seval).
zph_smooth <- function(dataset, endpoint, model, fit, df = 4, nsmo = 40) {
  z <- cox.zph(fit, terms = FALSE)
  xx <- z$x
  pred.x <- seq(from = min(xx), to = max(xx), length = nsmo)
  lmat <- ns(c(pred.x, xx), df = df, intercept = TRUE)
  pmat <- lmat[1:nsmo, ]
  xmat <- lmat[-(1:nsmo), ]
  bind(lapply(seq_len(ncol(z$y)), function(i) {
    qmat <- qr(xmat)
    yhat <- pmat %*% qr.coef(qmat, z$y[, i])
    bk <- backsolve(qmat$qr[1:df, 1:df], diag(df))
    seval <- ((pmat %*% (bk %*% t(bk))) * pmat) %*% rep(1, df)
    band <- 2 * sqrt(z$var[i, i] * seval)
    data.frame(dataset = dataset, endpoint = endpoint, model = model, coefficient = colnames(z$y)[i],
               x = pred.x, fit = as.vector(yhat), lower = as.vector(yhat - band), upper = as.vector(yhat + band))
  }))
}
smooth <- list(zph_smooth("lung", "os", "female_age", coxph(Surv(time, status) ~ female + age, data = data$lung)))

# ---------------------------------------------------------------- the project's data
lr <- list()
if (!is.null(data$analysis)) {
  a <- data$analysis
  a$dex_dose_group <- relevel(factor(a$dex_dose_group), ref = "full")
  for (ep in c("pfs", "os")) {
    surv <- paste0("Surv(", ep, "_months, ", ep, "_event)")
    fit <- coxph(as.formula(paste(surv, "~ dex_dose_group")), data = a)
    an <- anova(fit)
    lr[[length(lr) + 1]] <- data.frame(dataset = "analysis", endpoint = ep, covariate = "dex_dose_group",
                                       chisq = an[2, "Chisq"], df = an[2, "Df"], p = an[2, "Pr(>|Chi|)"],
                                       n = fit$n, events = fit$nevent)
    firth[[length(firth) + 1]] <- firth_rows("analysis", ep, "vgpr_emd_age", a, surv,
                                             c("vgpr_or_better", "emd_relapse", "age_ge65"))
    mv <- coxph(as.formula(paste(surv, "~ vgpr_or_better + emd_relapse + age_ge65")), data = a)
    smooth[[length(smooth) + 1]] <- zph_smooth("analysis", ep, "vgpr_emd_age", mv)
  }
  # the univariate screen of PFS and OS: one p per factor (Wald for 1 df, LR for the factor)
  covariates <- c("vgpr_or_better", "cr_or_better", "age_ge65", "dex_dose_group", "emd_relapse",
                  "cyto_high_risk_dx", "cyto_high_risk_relapse", "del17p_relapse",
                  "pc_ge60_relapse", "amp1q", "len_exposure_months", "len_dose_start_mg", "len_dose_pd_mg")
  screen <- bind(lapply(c("pfs", "os"), function(ep) bind(lapply(covariates, function(cv) {
    fit <- coxph(as.formula(paste0("Surv(", ep, "_months, ", ep, "_event) ~ ", cv)), data = a)
    p <- if (cv == "dex_dose_group") anova(fit)[2, "Pr(>|Chi|)"] else summary(fit)$coefficients[1, "Pr(>|z|)"]
    data.frame(dataset = "analysis", endpoint = ep, covariate = cv, p = p)
  }))))
  screen$holm <- p.adjust(screen$p, "holm")
  holm[[length(holm) + 1]] <- screen
}

write_out(bind(firth), "firth.csv")
write_out(bind(holm), "holm.csv")
write_out(bind(smooth), "zph_smooth.csv")
if (length(lr)) write_out(bind(lr), "factor_lr.csv")
write_out(data.frame(input = names(inputs), path = unname(inputs), md5 = unname(tools::md5sum(inputs)),
                     r_version = paste(R.version$major, R.version$minor, sep = "."),
                     survival_version = as.character(packageVersion("survival"))),
          "methods_manifest.csv")
