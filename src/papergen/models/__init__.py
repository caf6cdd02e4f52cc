"""papergen.models: regression models and group tests on arrays and data frames, equal to R.

Every function takes plain columns (numpy arrays, pandas Series, lists) or a
data frame of numeric covariates and returns a frozen result whose tuples are
Python floats in the order of ``terms`` (or of the groups).  The numbers match
R (survival 3.5, stats) to 1e-10 or better on the test data; tests/test_models.py
compares them with R output in tests/fixtures/models_r.json, with published R
output for GBSG2, and with lifelines, statsmodels, scipy and brute-force loops.  Bad input raises one ``ModelError`` subclass per problem, with a
one-line message naming the model and the covariate.

=====================  ==========================================================
``cox_ph``             Cox model (R ``coxph``; ``.ph_test()`` = ``cox.zph``)
``logistic``           logistic regression (R ``glm(family = binomial)``)
``logrank``            k-group log-rank test (R ``survdiff``)
``welch_t``,           two-sample t-tests (R ``t.test``)
``student_t``
``anova``              one-way ANOVA (R ``oneway.test(var.equal = TRUE)``)
``kruskal_wallis``     R ``kruskal.test``
``wilcoxon_rank_sum``  R ``wilcox.test`` (exact or normal approximation as R)
``chi_square``         R ``chisq.test``
``fisher_exact``       R ``fisher.test`` (2 x 2 with R's odds ratio and CI; r x c)
``smd``,               standardised mean differences (tableone)
``smd_categorical``
=====================  ==========================================================
"""
from papergen.models.cox import CoxResult, PHTest, concordance, cox_ph
from papergen.models.errors import (
    CollinearCovariatesError, ConstantCovariateError, EmptyGroupError, InfiniteEstimateError, InvalidInputError,
    MissingValuesError, ModelError, NoEventsError, NotBinaryError, NotConvergedError, SeparationError,
    TooFewGroupsError, TooFewObservationsError,
)
from papergen.models.grouptests import (
    AnovaResult, KruskalResult, TTestResult, WilcoxonResult, anova, kruskal_wallis, smd, student_t, welch_t,
    wilcoxon_rank_sum,
)
from papergen.models.logistic import LogisticResult, logistic
from papergen.models.logrank import LogrankResult, logrank
from papergen.models.tables import ChiSquareResult, FisherResult, chi_square, fisher_exact, smd_categorical

__all__ = [
    "cox_ph", "logistic", "logrank", "welch_t", "student_t", "anova", "kruskal_wallis", "wilcoxon_rank_sum",
    "chi_square", "fisher_exact", "smd", "smd_categorical", "concordance",
    "CoxResult", "PHTest", "LogisticResult", "LogrankResult", "TTestResult", "AnovaResult", "KruskalResult",
    "WilcoxonResult", "ChiSquareResult", "FisherResult",
    "ModelError", "InvalidInputError", "MissingValuesError", "NotBinaryError", "ConstantCovariateError",
    "CollinearCovariatesError", "NoEventsError", "NotConvergedError", "InfiniteEstimateError", "SeparationError",
    "EmptyGroupError", "TooFewGroupsError", "TooFewObservationsError",
]
