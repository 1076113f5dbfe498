/* float: double and single precision arithmetic, printf formatting, libm
 * functions, conversions and an n-body simulation.
 * Usage: float [STEPS] (n-body steps, default 2000)
 * FP contraction is disabled so that every ISA rounds the same way; fused
 * multiply-add is tested explicitly through fma(). */
#pragma STDC FP_CONTRACT OFF
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

/* volatile inputs keep the compiler from folding the arithmetic away */
static volatile double vals[] = {1.0 / 3.0, -2.5, 6.02214076e23, 4.9406564584124654e-324,
                                 0.1, 1e-5, -0.0, 123456789.125, 1e300};
static volatile double args[] = {0.5, 1.0, 2.0, 10.0, 3.14159, 1e-3};

static void formats(void)
{
    printf("== printf formats ==\n");
    for (size_t i = 0; i < sizeof vals / sizeof vals[0]; i++) {
        double x = vals[i];
        printf("%f | %e | %g | %.17g | %a\n", x, x, x, x, x);
    }
    double inf = vals[8] * vals[8];
    printf("%f %e %g | %10.3f|%-10.2e|%+g\n", inf, -inf, inf, vals[0], vals[1], vals[4]);
    printf("0.1+0.2 = %.17g, == 0.3: %d\n", vals[4] + 0.2, vals[4] + 0.2 == 0.3);
    double nan_ = inf - inf;
    printf("inf-inf is nan: %d, nan==nan: %d, nan<1: %d\n", isnan(nan_), nan_ == nan_, nan_ < 1.0);
}

static void arithmetic(void)
{
    printf("== double arithmetic ==\n");
    double a = vals[0], b = vals[1], c = vals[7];
    printf("a+b=%.17g a-b=%.17g a*b=%.17g a/b=%.17g\n", a + b, a - b, a * b, a / b);
    printf("c*c=%.17g c/a=%.17g -a=%.17g\n", c * c, c / a, -a);
    printf("fma(0.1,10,-1)=%.17g  0.1*10-1=%.17g\n", fma(vals[4], 10.0, -1.0), vals[4] * 10.0 - 1.0);
    printf("min*0.5=%a  max*2=%g\n", vals[3] * 0.5, 1.7976931348623157e308 * (vals[4] * 20.0));
    printf("fmin=%g fmax=%g copysign=%g\n", fmin(a, b), fmax(a, b), copysign(3.0, b));
}

static void mathlib(void)
{
    printf("== libm ==\n");
    for (size_t i = 0; i < sizeof args / sizeof args[0]; i++) {
        double x = args[i];
        printf("x=%g sqrt=%.17g sin=%.17g cos=%.17g\n", x, sqrt(x), sin(x), cos(x));
        printf("  exp=%.17g log=%.17g pow(x,1.5)=%.17g atan2(x,-1.5)=%.17g\n", exp(x), log(x),
               pow(x, 1.5), atan2(x, -1.5));
        printf("  fabs=%g floor=%g ceil=%g fmod(7.3x,2.1)=%.17g\n", fabs(-x), floor(-1.5 * x),
               ceil(-1.5 * x), fmod(7.3 * x, 2.1));
    }
}

static void conversions(void)
{
    printf("== conversions ==\n");
    double d = vals[0];
    float f = (float)d;
    printf("(float)(1/3)=%.9g back=%.17g\n", f, (double)f);
    printf("(int)-2.5=%d (long)(c*100)=%ld (unsigned)(c)=%u\n", (int)vals[1], (long)(vals[7] * 100),
           (unsigned)vals[7]);
    volatile int64_t big = (1LL << 53) + 1;
    volatile uint64_t ubig = UINT64_MAX;
    volatile int32_t i24 = (1 << 24) + 1;
    printf("(double)(2^53+1)=%.17g (double)UINT64_MAX=%.17g (float)(2^24+1)=%.9g\n", (double)big,
           (double)ubig, (float)i24);
    volatile double huge = 1.8e19;
    printf("(uint64_t)1.8e19=%llu (int64_t)-9.2e18=%lld\n", (unsigned long long)(uint64_t)huge,
           (long long)(int64_t)(-9.2e18 + vals[6]));
    double r[] = {2.5, 3.5, -2.5, -0.4, 1e15 + 0.5};
    for (int i = 0; i < 5; i++) {
        volatile double x = r[i];
        printf("x=%.17g rint=%g round=%g trunc=%g lrint=%ld llround=%lld\n", x, rint(x), round(x),
               trunc(x), lrint(x), llround(x));
    }
}

static void single(void)
{
    printf("== float (single precision) ==\n");
    float s = 0.0f, h = 0.0f;
    for (int i = 1; i <= 10000; i++) {
        float fi = (float)i;
        s += 1.0f / (fi * fi);
        h += 1.0f / fi;
    }
    printf("sum 1/i^2=%.9g sqrt(6*sum)=%.9g harmonic=%.9g\n", s, sqrtf(6.0f * s), h);
    volatile float a = 16777216.0f, b = 1.0f, c = 0.1f;
    printf("2^24+1=%.9g  0.1f=%.9g  0.1f*3=%.9g  (double)0.1f=%.17g\n", a + b, c, c * 3.0f, (double)c);
    printf("sinf=%.9g expf=%.9g logf=%.9g powf=%.9g fmaf=%.9g\n", sinf(c), expf(c), logf(c),
           powf(c, 2.5f), fmaf(c, 10.0f, -1.0f));
}

/* n-body (the Computer Language Benchmarks Game's "nbody") */
#define PI 3.141592653589793
#define SOLAR_MASS (4 * PI * PI)
#define DAYS_PER_YEAR 365.24
typedef struct { double x, y, z, vx, vy, vz, mass; } Body;

static Body bodies[5] = {
    {0, 0, 0, 0, 0, 0, SOLAR_MASS},
    {4.84143144246472090e+00, -1.16032004402742839e+00, -1.03622044471123109e-01,
     1.66007664274403694e-03 * DAYS_PER_YEAR, 7.69901118419740425e-03 * DAYS_PER_YEAR,
     -6.90460016972063023e-05 * DAYS_PER_YEAR, 9.54791938424326609e-04 * SOLAR_MASS},
    {8.34336671824457987e+00, 4.12479856412430479e+00, -4.03523417114321381e-01,
     -2.76742510726862411e-03 * DAYS_PER_YEAR, 4.99852801234917238e-03 * DAYS_PER_YEAR,
     2.30417297573763929e-05 * DAYS_PER_YEAR, 2.85885980666130812e-04 * SOLAR_MASS},
    {1.28943695621391310e+01, -1.51111514016986312e+01, -2.23307578892655734e-01,
     2.96460137564761618e-03 * DAYS_PER_YEAR, 2.37847173959480950e-03 * DAYS_PER_YEAR,
     -2.96589568540237556e-05 * DAYS_PER_YEAR, 4.36624404335156298e-05 * SOLAR_MASS},
    {1.53796971148509165e+01, -2.59193146099879641e+01, 1.79258772950371181e-01,
     2.68067772490389322e-03 * DAYS_PER_YEAR, 1.62824170038242295e-03 * DAYS_PER_YEAR,
     -9.51592254519715870e-05 * DAYS_PER_YEAR, 5.15138902046611451e-05 * SOLAR_MASS},
};

static double energy(void)
{
    double e = 0;
    for (int i = 0; i < 5; i++) {
        Body *b = &bodies[i];
        e += 0.5 * b->mass * (b->vx * b->vx + b->vy * b->vy + b->vz * b->vz);
        for (int j = i + 1; j < 5; j++) {
            double dx = b->x - bodies[j].x, dy = b->y - bodies[j].y, dz = b->z - bodies[j].z;
            e -= b->mass * bodies[j].mass / sqrt(dx * dx + dy * dy + dz * dz);
        }
    }
    return e;
}

static void advance(double dt)
{
    for (int i = 0; i < 5; i++) {
        Body *b = &bodies[i];
        for (int j = i + 1; j < 5; j++) {
            Body *c = &bodies[j];
            double dx = b->x - c->x, dy = b->y - c->y, dz = b->z - c->z;
            double d2 = dx * dx + dy * dy + dz * dz;
            double mag = dt / (d2 * sqrt(d2));
            b->vx -= dx * c->mass * mag, b->vy -= dy * c->mass * mag, b->vz -= dz * c->mass * mag;
            c->vx += dx * b->mass * mag, c->vy += dy * b->mass * mag, c->vz += dz * b->mass * mag;
        }
    }
    for (int i = 0; i < 5; i++) {
        Body *b = &bodies[i];
        b->x += dt * b->vx, b->y += dt * b->vy, b->z += dt * b->vz;
    }
}

static void nbody(long steps)
{
    printf("== n-body, %ld steps ==\n", steps);
    double px = 0, py = 0, pz = 0;
    for (int i = 0; i < 5; i++)
        px += bodies[i].vx * bodies[i].mass, py += bodies[i].vy * bodies[i].mass,
            pz += bodies[i].vz * bodies[i].mass;
    bodies[0].vx = -px / SOLAR_MASS, bodies[0].vy = -py / SOLAR_MASS, bodies[0].vz = -pz / SOLAR_MASS;
    printf("energy before: %.9f\n", energy());
    for (long i = 0; i < steps; i++)
        advance(0.01);
    printf("energy after:  %.9f\n", energy());
    printf("jupiter at: %.17g %.17g %.17g\n", bodies[1].x, bodies[1].y, bodies[1].z);
}

static void simpson(long n)
{
    /* integral of 4/(1+x^2) over [0,1] = pi */
    double h = 1.0 / (double)n, sum = 0;
    for (long i = 0; i <= n; i++) {
        double x = (double)i * h, w = (i == 0 || i == n) ? 1 : (i % 2 ? 4 : 2);
        sum += w * 4.0 / (1.0 + x * x);
    }
    printf("== simpson ==\npi ~ %.17g (n=%ld)\n", sum * h / 3.0, n);
}

int main(int argc, char **argv)
{
    long steps = argc > 1 ? atol(argv[1]) : 2000;
    formats();
    arithmetic();
    mathlib();
    conversions();
    single();
    simpson(2 * (steps / 2) + 2);
    nbody(steps);
    return 0;
}
