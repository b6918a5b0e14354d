# R reference values for tests/test_maic.py (base R + survival only).
#
# Run from the repository root:
#     Rscript tests/reference/maic_reference.R
# 1. MAIC on the NICE DSU TSD 18 example (tests/reference/maic/): weights by the method of
#    moments, found with base R optim (BFGS, analytic gradient) as in TSD 18 Appendix D,
#    matching the mean and SD of age (the SD as a population second moment) and the
#    proportion male, pooling both arms of the AB trial. Writes the coefficients, the ESS,
#    the weighted outcome per arm and every patient's weight.
# 2. A weighted Kaplan-Meier curve and median (survfit with case weights) on the lung
#    fixture, with weights that are a fixed function of age.
# 3. A Cox model with case weights (Breslow ties) on the same fixture: the unanchored hazard ratio.
# Output: tests/reference/r_out/maic_*.csv with 15 significant digits.

suppressPackageStartupMessages(library(survival))
source(file.path("tests", "reference", "r_helpers.R"))  # ref, out, write_out, bind

ipd <- read.csv(file.path(ref, "maic", "AB_IPD.csv"), stringsAsFactors = FALSE, colClasses = c(ID = "character"))
agd <- read.csv(file.path(ref, "maic", "AC_AgD.csv"))
male <- as.numeric(ipd$gender == "Male")
x <- cbind(age = ipd$age - agd$age.mean,
           age2 = ipd$age^2 - (agd$age.mean^2 + agd$age.sd^2),
           male = male - agd$prop.male)
objfn <- function(a) sum(exp(x %*% a))
gradfn <- function(a) colSums(sweep(x, 1, exp(x %*% a), "*"))
opt <- optim(c(0, 0, 0), objfn, gradfn, method = "BFGS",
             control = list(reltol = 1e-15, maxit = 10000))
w <- as.vector(exp(x %*% opt$par))
w_rs <- w / sum(w) * nrow(ipd)
ess <- sum(w)^2 / sum(w^2)
arms <- sort(unique(ipd$trt))
summary_rows <- rbind(
  data.frame(quantity = paste0("coef_", colnames(x)), arm = "", value = opt$par),
  data.frame(quantity = "ess", arm = "", value = ess),
  data.frame(quantity = "weighted_mean_age", arm = "", value = weighted.mean(ipd$age, w)),
  data.frame(quantity = "weighted_sd_age_population", arm = "",
             value = sqrt(weighted.mean((ipd$age - weighted.mean(ipd$age, w))^2, w))),
  data.frame(quantity = "weighted_prop_male", arm = "", value = weighted.mean(male, w)),
  do.call(rbind, lapply(arms, function(a) {
    s <- ipd$trt == a
    data.frame(quantity = c("weighted_mean_y", "ess_arm"), arm = a,
               value = c(weighted.mean(ipd$y[s], w[s]), sum(w[s])^2 / sum(w[s]^2)))
  })),
  data.frame(quantity = "optim_convergence", arm = "", value = opt$convergence))
write_out(summary_rows, "maic_tsd18.csv")
write_out(data.frame(ID = ipd$ID, weight_rescaled = w_rs), "maic_tsd18_weights.csv")

lung <- read.csv(file.path(ref, "lung.csv"))
lung$w <- exp((lung$age - 60) / 10)
fit <- survfit(Surv(time, status) ~ 1, data = lung, weights = w)
write_out(data.frame(time = fit$time, n_risk = fit$n.risk, n_event = fit$n.event, surv = fit$surv),
          "maic_weighted_km_lung.csv")
write_out(data.frame(median = unname(quantile(fit, 0.5)$quantile)), "maic_weighted_median_lung.csv")

# 3. The unanchored comparison's hazard ratio: a Cox model with case weights, Breslow's ties
#    (weights as in part 2, female against male), as compendium.stats.maic.weighted_cox_hr fits it.
cox_w <- coxph(Surv(time, status) ~ female, data = lung, weights = w, ties = "breslow")
write_out(data.frame(hr = unname(exp(coef(cox_w)))), "maic_weighted_cox_lung.csv")
